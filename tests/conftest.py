"""The one way a test says it reads the labelled benchmark data: ``@pytest.mark.data(path, ...)``.

Each path is relative to the data root (:func:`gennape.data.data_root`: ``$GENNAPE_DATA``, else
``shared/data`` beside an ancestor folder), e.g. ``@pytest.mark.data("raw/nasbench201")``. Where a
path is missing (a fresh clone without the data) the test is skipped with one reason naming it; with
``GENNAPE_REQUIRE_DATA=1`` (set by ``.ci/run``) it fails instead, so CI never skips it silently.
Mark every test that reads the data, itself or through a fixture, and no other."""

from __future__ import annotations

import os

import pytest

from gennape.data import data_root

REQUIRE = "GENNAPE_REQUIRE_DATA"
HOW = "set GENNAPE_DATA to the folder that holds raw/<family>/ (see ../shared/data/README.md)"
PREFIX = "labelled data missing"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "data(*paths): reads the labelled data at these paths under the data root; skipped "
                   f"where one is missing, an error instead under {REQUIRE}=1")


def pytest_report_header(config):
    root = data_root()
    found = "found" if (root / "raw").is_dir() else "not found: tests marked 'data' will skip"
    return f"gennape labelled data: {root} ({found}); {REQUIRE}={os.environ.get(REQUIRE, '')}"


def missing_data(paths) -> str | None:
    """Why the labelled data at ``paths`` cannot be read, or None when every path exists."""
    root = data_root()
    if not (root / "raw").is_dir():
        return f"{PREFIX}: no raw/ folder under {root}; {HOW}"
    missing = [str(root / p) for p in paths if not (root / p).exists()]
    return f"{PREFIX}: {', '.join(missing)} not found; {HOW}" if missing else None


@pytest.hookimpl(tryfirst=True)  # before any fixture reads the data
def pytest_runtest_setup(item):
    marks = list(item.iter_markers("data"))
    if not marks:
        return
    paths = [p for m in marks for p in m.args]
    if not paths or not all(isinstance(p, str) for p in paths):
        raise pytest.UsageError(f"{item.nodeid}: pytest.mark.data needs the relative paths it reads")
    reason = missing_data(paths)
    if reason is None:
        return
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter):
    """One line saying how many tests were skipped for want of the data, and how to provide it."""
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and r.longrepr[2].startswith(f"Skipped: {PREFIX}")]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} test(s) skipped for want of the labelled data under "
                                    f"{data_root()} (pytest -rs names what is missing); {HOW}")
