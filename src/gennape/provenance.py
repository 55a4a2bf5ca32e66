"""Which code produced a cached or reported result: a digest of the gennape sources it ran."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType


def code_digest(module_name: str) -> str:
    """Digest of the source of ``module_name`` and of every gennape module it uses, transitively:
    it changes whenever any code that could change the module's results changes."""
    importlib.import_module(module_name)
    digest = hashlib.sha256()
    for name in sorted(gennape_dependencies(module_name)):
        digest.update(name.encode() + source_digest(name))
    return digest.hexdigest()[:16]


@functools.cache
def source_digest(module_name: str) -> bytes:
    """Digest of a module's code, read once per process (the code this process runs, even if the
    file is edited meanwhile): its syntax tree without docstrings, so that editing a comment, a
    docstring or the layout does not invalidate results that took an hour to compute."""
    tree = ast.parse(Path(inspect.getfile(sys.modules[module_name])).read_bytes())
    for node in ast.walk(tree):
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
                and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
                and isinstance(node.body[0].value.value, str)):
            node.body = node.body[1:]
    return hashlib.sha256(ast.dump(tree).encode()).digest()


def gennape_dependencies(module_name: str) -> set[str]:
    """``module_name`` and the gennape modules it uses, transitively: those whose module-level
    names (imported modules, functions, classes) it binds."""
    found, todo = set(), [module_name]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        module = sys.modules[name]
        exported = getattr(module, "__all__", ())
        for key, value in vars(module).items():
            dep = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
            # a package's submodules join its namespace whenever anything imports them: they count only
            # where the package exports them, so the digest does not depend on what was imported before
            if isinstance(value, ModuleType) and dep.startswith(name + ".") and key not in exported:
                continue
            if isinstance(dep, str) and dep.startswith("gennape.") and dep in sys.modules:
                todo.append(dep)
    return found


