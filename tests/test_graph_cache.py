"""The on-disk graph cache: round trip, parallel build, rebuild exactly when its key changes."""

from pathlib import Path

import pytest

from gennape import families
from gennape.data import Record, graph_cache
from gennape.data import base as data_base
from gennape.data.graph_cache import dataset_graphs, graphs_for
from gennape import provenance
from gennape.files import cache_root

SPECS_TEXT = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|skip_connect~1|nor_conv_1x1~2|",
    "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|",
]


@pytest.fixture
def nb201():
    return families.get("nb201")


@pytest.fixture
def specs(nb201):
    return [nb201.parse(t) for t in SPECS_TEXT]


def cached_files(cache_dir):
    return sorted((cache_dir / "graphs").glob("*.npz"))


@pytest.mark.parametrize("workers", [1, 2])
def test_graphs_match_the_family_in_spec_order(tmp_path, nb201, specs, workers):
    graphs = graphs_for("nb201", specs, name="five", workers=workers, progress=False, cache_dir=tmp_path)
    assert len(graphs) == len(specs)
    for g, spec in zip(graphs, specs):
        assert g == nb201.to_graph(spec), g.diff(nb201.to_graph(spec))
    assert [g.num_nodes for g in graphs] == [nb201.to_graph(s).num_nodes for s in specs]


def test_second_call_loads_without_building(tmp_path, specs, monkeypatch):
    built = graphs_for("nb201", specs, name="five", progress=False, cache_dir=tmp_path)
    [path] = cached_files(tmp_path)
    stamp = path.stat().st_mtime_ns

    def refuse(*args):
        raise AssertionError("the cache was rebuilt although its key did not change")

    monkeypatch.setattr(graph_cache, "_build", refuse)
    loaded = graphs_for("nb201", specs, name="five", progress=False, cache_dir=tmp_path)
    assert loaded == built and [g.name for g in loaded] == [g.name for g in built]
    assert cached_files(tmp_path) == [path] and path.stat().st_mtime_ns == stamp


def test_version_change_rebuilds_and_removes_the_stale_file(tmp_path, specs, monkeypatch):
    graphs_for("nb201", specs, name="five", progress=False, cache_dir=tmp_path)
    [old] = cached_files(tmp_path)
    monkeypatch.setattr(graph_cache, "GRAPH_CACHE_VERSION", graph_cache.GRAPH_CACHE_VERSION + 1)
    calls = []
    real_build = graph_cache._build
    monkeypatch.setattr(graph_cache, "_build", lambda *a: calls.append(a) or real_build(*a))
    rebuilt = graphs_for("nb201", specs, name="five", progress=False, cache_dir=tmp_path)
    assert len(calls) == 1 and len(rebuilt) == len(specs)
    [new] = cached_files(tmp_path)
    assert new != old and not old.exists()


def test_other_specs_or_names_get_their_own_files(tmp_path, specs):
    graphs_for("nb201", specs, name="five", progress=False, cache_dir=tmp_path)
    graphs_for("nb201", specs[:2], name="two", progress=False, cache_dir=tmp_path)
    assert len(cached_files(tmp_path)) == 2
    # same name, other specs: the key changes, so the file of "two" is replaced, "five" is kept
    graphs = graphs_for("nb201", specs[2:], name="two", progress=False, cache_dir=tmp_path)
    assert len(graphs) == 3 and len(cached_files(tmp_path)) == 2


def test_cache_root_follows_argument_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAPE_CACHE", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(tmp_path / "arg") == tmp_path / "arg"


def test_key_follows_the_source_of_every_module_the_family_uses(nb201, monkeypatch):
    deps = provenance.gennape_dependencies(type(nb201).__module__)
    assert {"gennape.families.nb201", "gennape.graph.compute_graph", "gennape.graph.cost"} <= deps
    key = graph_cache.cache_key(nb201, SPECS_TEXT)
    assert graph_cache.cache_key(nb201, SPECS_TEXT[:-1]) != key
    read_bytes = Path.read_bytes

    def key_with_cost_py_ending(text: bytes) -> str:
        monkeypatch.setattr(Path, "read_bytes",
                            lambda self: read_bytes(self) + (text if self.name == "cost.py" else b""))
        provenance.source_digest.cache_clear()  # sources are read once per process
        try:
            return graph_cache.cache_key(nb201, SPECS_TEXT)
        finally:
            monkeypatch.undo()
            provenance.source_digest.cache_clear()

    assert key_with_cost_py_ending(b"\nEDITED = 1\n") != key
    # comments and docstrings are not code: editing them keeps every cache and result
    assert key_with_cost_py_ending(b"\n# a comment\n") == key
    assert key_with_cost_py_ending(b'\ndef helper():\n    """Old words."""\n') == key_with_cost_py_ending(
        b'\ndef helper():\n    """New words."""\n')


def test_a_code_digest_does_not_depend_on_what_was_imported_before():
    import subprocess
    import sys

    code = ("import importlib, sys; from gennape.provenance import code_digest; "
            "importlib.import_module(sys.argv[1]) if len(sys.argv) > 1 else None; "
            "print(code_digest('gennape.data.graph_cache'))")
    digests = {subprocess.run([sys.executable, "-c", code, *extra], capture_output=True, text=True,
                              check=True).stdout for extra in ([], ["gennape.families.catalogue"])}
    assert len(digests) == 1, "importing every family module changed the digest of a module that binds the package"


def test_dataset_graphs_follow_the_records_of_a_data_set(tmp_path, nb201, specs, monkeypatch):
    records = [Record(spec, 90.0 + i) for i, spec in enumerate(specs)]
    monkeypatch.setitem(data_base.DATA_SETS._entries, "test/five", (lambda root: records, "nb201"))
    graphs = dataset_graphs("test/five", progress=False, cache_dir=tmp_path)
    assert graphs == [nb201.to_graph(r.spec) for r in records]
    assert [p.name.split("-")[0] for p in cached_files(tmp_path)] == ["test_five"]
