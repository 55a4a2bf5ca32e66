"""Which code produced a cached or reported result: a digest of the gennape sources it ran."""

from __future__ import annotations

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
    """Digest of a module's source file, read once per process: the code this process runs, even
    if the file is edited meanwhile."""
    return hashlib.sha256(Path(inspect.getfile(sys.modules[module_name])).read_bytes()).digest()


def gennape_dependencies(module_name: str) -> set[str]:
    """``module_name`` and the gennape modules it uses, transitively: those whose module-level
    names (imported modules, functions, classes) it binds."""
    found, todo = set(), [module_name]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for value in vars(sys.modules[name]).values():
            dep = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
            if isinstance(dep, str) and dep.startswith("gennape.") and dep in sys.modules:
                todo.append(dep)
    return found


