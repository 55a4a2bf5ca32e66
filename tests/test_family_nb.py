"""NAS-Bench-101/201/301 specifics: agreement with the benchmarks' own hashes and parameter
counts, spec canonicalisation, and the labelled-data loaders."""

from __future__ import annotations

import ast
import json
import random
from collections import Counter

import pytest

from gennape.data import DataError, data_root, load
from gennape.data.labels_nb301 import spec_from_compact
from gennape.errors import SpecError
from gennape.families import get
from gennape.families.darts import DartsFamily, DartsSpec
from gennape.families.nb101 import CELLS_PER_VERTEX_COUNT, OPS as NB101_OPS, NB101Spec, nb101_hash
from gennape.families.nb201 import EDGES, NB201Family, NB201Spec
from gennape.graph import from_torch

RAW = data_root() / "raw"


@pytest.fixture(scope="module")
def nb101_rows():
    """(matrix, ops, key, params) of the 1,000 cells of data-1k.json, padding vertices removed."""
    data = json.loads((RAW / "nasbench101" / "data-1k.json").read_text())
    names = {-1: "input", -2: "output", 0: NB101_OPS[0], 1: NB101_OPS[1], 2: NB101_OPS[2]}
    rows = []
    for adjacency, labels, key, params in zip(data["adjacency"], data["operations"], data["key"],
                                              data["trainable_parameters"]):
        n = sum(1 for o in labels if o != -3)
        rows.append(([row[:n] for row in adjacency[:n]], [names[o] for o in labels[:n]], key, params))
    return rows


# ------------------------------------------------------------------------------ NB-101
@pytest.mark.data("raw/nasbench101")
def test_nb101_hash_reproduces_every_data_key(nb101_rows):
    assert [nb101_hash(m, ops) for m, ops, _, _ in nb101_rows] == [key for _, _, key, _ in nb101_rows]


@pytest.mark.data("raw/nasbench101")
def test_nb101_canonical_order_is_the_order_nb101_stores(nb101_rows):
    for m, ops, key, _ in nb101_rows:
        spec = NB101Spec.from_cell(m, ops)
        assert spec.matrix == tuple(tuple(int(v) for v in row) for row in m) and spec.ops == tuple(ops)
        assert spec.hash == key


@pytest.mark.data("raw/nasbench101")
def test_nb101_graph_params_equal_trainable_parameters(nb101_rows):
    family = get("nb101")
    rows = nb101_rows[::4]  # 250 cells; the benchmark checks all 1,000
    assert [family.to_graph(NB101Spec.from_cell(m, ops)).params for m, ops, _, _ in rows] == [p for *_, p in rows]


@pytest.mark.data("raw/nasbench101")
def test_nb101_isomorphic_and_unpruned_cells_are_one_spec(nb101_rows):
    rng = random.Random(0)
    for m, ops, key, _ in nb101_rows[:50]:
        n = len(ops)
        order = _random_topological_order(m, rng)  # order[new] = old vertex
        permuted = [[int(m[order[i]][order[j]]) for j in range(n)] for i in range(n)]
        spec = NB101Spec.from_cell(permuted, [ops[v] for v in order])
        assert spec == NB101Spec.from_cell(m, ops) and spec.hash == key


def test_nb101_dead_end_and_unreachable_vertices_are_pruned():
    # vertex 2 is a dead end (fed by the input, feeds nothing), then unreachable (feeds the output only)
    cell = NB101Spec.from_cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    assert NB101Spec.from_cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ops) == cell
    assert NB101Spec.from_cell([[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ops) == cell


def _random_topological_order(m, rng) -> list[int]:
    n, order, placed = len(m), [0], {0}
    while len(order) < n - 1:
        ready = [v for v in range(1, n - 1) if v not in placed and all(not m[u][v] or u in placed for u in range(n))]
        v = rng.choice(ready)
        order.append(v)
        placed.add(v)
    return order + [n - 1]


@pytest.mark.parametrize("matrix, ops, problem", [
    ([[0, 1], [0, 0]], ["input", "conv5x5", "output"], "ops"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5-bn-relu", "output"], "unknown"),
    ([[0, 1, 0], [1, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"], "upper-triangular"),
    ([[0, 0, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"], "no path"),
    ([[0] * 8 for _ in range(8)], ["input"] + ["maxpool3x3"] * 6 + ["output"], "vertices"),
    ([[int(j > i) for j in range(7)] for i in range(7)], ["input"] + ["maxpool3x3"] * 5 + ["output"], "edges"),
])
def test_nb101_invalid_cells_raise_spec_error(matrix, ops, problem):
    with pytest.raises(SpecError, match=problem):
        NB101Spec.from_cell(matrix, ops)


def test_nb101_string_form():
    spec = get("nb101").parse("input,conv3x3-bn-relu,output|011,001,000")
    assert spec.matrix == ((0, 1, 1), (0, 0, 1), (0, 0, 0)) and str(spec) == "input,conv3x3-bn-relu,output|011,001,000"
    with pytest.raises(SpecError):
        get("nb101").parse("input,output|0x,00")


def test_nb101_sampling_follows_the_vertex_counts_of_the_space():
    rng = random.Random(1)
    counts = Counter(get("nb101").sample(rng).num_vertices for _ in range(200))
    share_7 = CELLS_PER_VERTEX_COUNT[7] / sum(CELLS_PER_VERTEX_COUNT.values())  # 0.848
    assert abs(counts[7] / 200 - share_7) < 0.08
    assert set(counts) <= set(CELLS_PER_VERTEX_COUNT)


def test_nb101_mutation_can_grow_a_small_cell():
    family, rng = get("nb101"), random.Random(0)
    spec = family.parse("input,conv3x3-bn-relu,output|011,001,000")
    sizes = {family.mutate(spec, rng).num_vertices for _ in range(40)}
    assert 4 in sizes


# ------------------------------------------------------------------------------ NB-201
@pytest.mark.data("raw/nasbench201")
@pytest.mark.parametrize("dataset, classes", [
    ("cifar10", 10),
    pytest.param("cifar100", 100, marks=pytest.mark.slow),
    pytest.param("ImageNet16-120", 120, marks=pytest.mark.slow)])
def test_nb201_graph_params_equal_naslib(dataset, classes):
    rows = json.loads((RAW / "nasbench201" / "zc_nasbench201.json").read_text())[dataset]
    naslib_ops = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
    naslib_edges = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
    family = NB201Family(classes, resolution=16 if classes == 120 else 32)
    cache: dict[NB201Spec, int] = {}
    mismatches = []
    for key, row in rows.items():
        op_of = {e: naslib_ops[k] for e, k in zip(naslib_edges, ast.literal_eval(key))}
        spec = NB201Spec(tuple(op_of[e] for e in EDGES))
        if spec not in cache:
            cache[spec] = family.to_graph(spec).params
        if cache[spec] != round(row["params"]["score"] * 1e6):
            mismatches.append(key)
    assert len(rows) >= 724 and mismatches == []


def test_nb201_arch_string_round_trip_and_errors():
    text = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    spec = NB201Spec.parse(text)
    assert spec.ops == ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect")
    assert str(spec) == text
    for bad in ("|nor_conv_3x3~0|", text.replace("~2", "~1"), text.replace("avg_pool_3x3", "max_pool_3x3")):
        with pytest.raises(SpecError):
            NB201Spec.parse(bad)


def test_nb201_none_edges_are_zero_nodes_and_imagenet16_network():
    family = NB201Family(120, resolution=16)
    spec = NB201Spec(("none",) * 6)
    graph = family.to_graph(spec)
    # the three `none` edges leaving each of nodes 0, 1, 2 of a cell compute the same zero tensor:
    # one `zero` node per source node and cell
    assert graph.ops.count("zero") == 3 * 15
    assert graph == from_torch(family.build(spec), family.input_shape(spec))
    assert int(graph.shapes[graph.output_nodes[0], 5]) == 120 and graph.shapes[0, 3] == 16


# ------------------------------------------------------------------------------ DARTS / NB-301
@pytest.mark.data("raw/nasbench301")
def test_nb301_graph_params_equal_naslib():
    rows = json.loads((RAW / "nasbench301" / "zc_nasbench301.json").read_text())["cifar10"]
    family = get("darts")
    mismatches = [key for key, row in rows.items()
                  if family.to_graph(spec_from_compact(ast.literal_eval(key))).params
                  != round(row["params"]["score"] * 1e6)]
    assert len(rows) == 725 and mismatches == []


def test_darts_spec_is_canonical_and_checked():
    normal = [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
              ("skip_connect", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("dil_conv_3x3", 2)]
    reduce = [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
              ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)]
    spec = DartsSpec(normal, reduce)
    swapped = DartsSpec([normal[1], normal[0]] + normal[2:], reduce)
    assert spec == swapped and hash(spec) == hash(swapped)
    assert get("darts").to_graph(spec) == get("darts").to_graph(swapped)
    with pytest.raises(SpecError, match="twice"):
        DartsSpec([("sep_conv_3x3", 0), ("sep_conv_3x3", 0)] + normal[2:], reduce)
    with pytest.raises(SpecError, match="may read"):
        DartsSpec(normal[:2] + [("sep_conv_3x3", 3)] + normal[3:], reduce)
    with pytest.raises(SpecError, match="unknown"):
        DartsSpec([("conv_7x1_1x7", 0)] + normal[1:], reduce)


def test_darts_gennape_size_network():
    family = DartsFamily(channels=16, cells=20)
    spec = family.sample(random.Random(0))
    graph = family.to_graph(spec)
    assert graph.num_nodes > 2 * get("darts").to_graph(spec).num_nodes
    assert int(graph.shapes[graph.ops.index("linear"), 2]) == 4 * 64  # 256 channels before the head
    assert graph.params == sum(p.numel() for p in family.build(spec).parameters())


# ------------------------------------------------------------------------------ loaders
@pytest.mark.data("raw/nasbench201")
def test_nb201_loaders():
    records = load("nb201")
    assert len(records) == 15_625 and len({r.spec for r in records}) == 15_625
    best = max(records, key=lambda r: r.accuracy)
    assert best.accuracy == pytest.approx(94.3733, abs=1e-3) and best.extra["index"] == 6111
    assert all(0 <= r.accuracy <= 100 and 0 <= r.extra["imagenet16_120_test_accuracy"] <= 100 for r in records)
    no_none = load("nb201/no_none")
    assert len(no_none) == 4_096 and all("none" not in r.spec.ops for r in no_none)
    assert min(r.accuracy for r in no_none) > 40


@pytest.mark.data("raw/nasbench301")
def test_nb301_loader():
    records = load("nb301")
    assert len(records) == 725 and len({r.spec for r in records}) == 725
    assert all(91 < r.accuracy < 95 for r in records)
    assert {r.extra["label_source"] for r in records} == {"surrogate (NB-301 v1.0 XGBoost)"}
    assert all(r.extra["params"] > 0 and r.extra["flops"] > 0 and "nwot" in r.extra for r in records)


@pytest.mark.parametrize("name, file", [("nb201", "nats_bench.csv"), ("nb301", "zc_nasbench301.json")])
def test_missing_data_file_names_file_and_source(tmp_path, name, file):
    with pytest.raises(DataError, match=file):
        load(name, root=tmp_path)
