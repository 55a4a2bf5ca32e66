"""The package's shape: no import cycle at module level, modules of a readable size, a small public
API, and the names that moved still answering (with a DeprecationWarning)."""

import ast
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import gennape

PACKAGE = Path(gennape.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The gennape modules ``path`` imports at module level (imports inside functions are lazy)."""
    name, is_package = _module_name(path), path.name == "__init__.py"
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                target = f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                if target in modules and target != name:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
    return found


def test_no_import_cycle_among_the_packages_modules():
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    imports = {m: _module_level_imports(p, set(files)) for m, p in files.items()}
    assert imports["gennape.training.pipeline"] >= {"gennape.estimator", "gennape.evaluation.protocol"}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            m = todo.pop()
            if m == goal:
                return True
            if m not in seen:
                seen.add(m)
                todo += imports[m]
        return False

    cycles = [(a, b) for a in imports for b in imports[a] if reaches(b, a)]
    assert not cycles, f"module-level import cycles through: {cycles}"


def test_the_estimator_imports_nothing_from_training_or_evaluation():
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    for path in (PACKAGE / "estimator").glob("*.py"):
        assert not {m for m in _module_level_imports(path, set(files))
                    if m.startswith(("gennape.training", "gennape.evaluation"))}, path


def test_no_module_is_over_600_lines_and_those_over_400_say_why():
    sizes = {p: len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert max(sizes.values()) <= 600, max(sizes, key=sizes.get)
    long = [p for p, n in sizes.items() if n > 400]
    assert len(long) <= 4, long
    for path in long:
        assert "over 400 lines" in ast.get_docstring(ast.parse(path.read_text())), f"{path} does not say why it is long"


def test_the_top_level_api_is_explicit_and_light():
    code = ("import sys, gennape; assert 'torch' not in sys.modules; "
            "print(sorted(gennape.__all__)); gennape.ComputeGraph; assert 'torch' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted(["ComputeGraph", "__version__", "data", "families", "from_onnx", "from_torch",
                                      "load_estimator", "load_pretrained"]))
    assert gennape.families.get("nb201").name == "nb201" and "nb201" in gennape.data.names()
    with pytest.raises(AttributeError):
        gennape.train_estimator  # noqa: B018  internals are not exported


@pytest.mark.parametrize("old, name, new", [
    ("gennape.train", "TrainConfig", "gennape.training"),
    ("gennape.train", "train_estimator", "gennape.training.pipeline"),
    ("gennape.evaluate", "zero_shot", "gennape.evaluation.protocol"),
    ("gennape.metrics", "spearman", "gennape.evaluation.metrics"),
    ("gennape.seed_ensemble", "SeedEnsemble", "gennape.estimator.seed_ensemble"),
])
def test_moved_modules_still_answer_with_a_deprecation_warning(old, name, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match="moved to"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


def test_moved_names_still_answer_with_a_deprecation_warning():
    from gennape import reproduce
    from gennape.evaluation import EVAL_SETS

    with pytest.warns(DeprecationWarning):
        assert reproduce.EVAL_SETS == tuple(EVAL_SETS.values())
    with pytest.warns(DeprecationWarning):
        assert gennape.PRETRAINED == ("gennape", "gennape_seeds")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gennape.load_pretrained is gennape.load_estimator.__globals__["load_pretrained"]


def test_every_registry_names_its_known_entries_when_asked_for_an_unknown_one():
    from gennape.errors import GennapeError
    from gennape.estimator import MEMBER_KINDS, SHIPPED
    from gennape.evaluation import EVAL_SETS
    from gennape.training import PRESETS

    for registry, known in ((MEMBER_KINDS, "pairwise"), (SHIPPED, "gennape_seeds"), (EVAL_SETS, "nb301"),
                            (PRESETS, "quick")):
        with pytest.raises(GennapeError, match=f"unknown {registry.kind} 'nope'; known: .*{known}"):
            registry.get("nope")
