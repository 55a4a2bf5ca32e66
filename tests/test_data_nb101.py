"""NB-101 labelled data: the module hash, the enumeration of the space, the cached hash -> cell
table, and the ``nb101`` loader."""

import json
import random

import numpy as np
import pytest

from gennape.data import DataError, data_root, load
from gennape.data import nb101_hashes as nh
from gennape.errors import SpecError
from gennape.families.nb101 import NB101Spec, nb101_hash

DATA_1K = "raw/nasbench101/data-1k.json"
DATA_20K = "raw/nasbench101/data-20k.json"


@pytest.fixture(scope="module")
def data_1k_cells():
    """(matrix, labels, key) of the 1,000 rows of data-1k.json, padding vertices removed."""
    data = json.loads((data_root() / DATA_1K).read_text())
    cells = []
    for adjacency, operations, key in zip(data["adjacency"], data["operations"], data["key"]):
        keep = [i for i, op in enumerate(operations) if op != nh.PADDING_LABEL]
        matrix = np.array(adjacency)[np.ix_(keep, keep)].astype(int)
        cells.append((matrix, [operations[i] for i in keep], key))
    return cells


@pytest.fixture(scope="module")
def small_table():
    """Every cell of at most 5 vertices."""
    return nh.enumerate_cells(max_vertices=5, progress=False)


def op_names(labels):
    return ["input", *(nh.OPS[k] for k in labels[1:-1]), "output"]


@pytest.mark.data("raw/nasbench101")
def test_module_hash_reproduces_every_data_1k_key(data_1k_cells):
    assert len(data_1k_cells) == 1000
    assert [nh.module_hash(m, labels) for m, labels, _ in data_1k_cells] == [k for *_, k in data_1k_cells]


@pytest.mark.data("raw/nasbench101")
def test_module_hash_agrees_with_the_nb101_family(data_1k_cells):
    for matrix, labels, key in data_1k_cells[:200]:
        assert nb101_hash(matrix, op_names(labels)) == key
        assert NB101Spec.from_cell(matrix, op_names(labels)).hash == key


@pytest.mark.data("raw/nasbench101")
def test_module_hash_ignores_vertex_order_but_not_ops(data_1k_cells):
    rng = random.Random(0)
    for matrix, labels, key in data_1k_cells[:50]:
        n = len(labels)
        order = [0, *rng.sample(range(1, n - 1), n - 2), n - 1]
        assert nh.module_hash(matrix[np.ix_(order, order)], [labels[i] for i in order]) == key
        changed = list(labels)
        changed[1] = (changed[1] + 1) % 3
        assert nh.module_hash(matrix, changed) != key


def test_module_hash_rejects_a_matrix_that_does_not_fit_the_labels():
    with pytest.raises(SpecError, match="does not fit"):
        nh.module_hash(np.zeros((3, 3), int), [-1, -2])


def test_full_dags_put_every_vertex_on_an_input_output_path():
    dags = nh.full_dags(5)
    assert len(dags) == 121
    assert (np.triu(dags, 1) == dags).all() and (dags.sum((1, 2)) <= nh.MAX_EDGES).all()
    assert (dags.sum(1)[:, 1:] > 0).all() and (dags.sum(2)[:, :-1] > 0).all()
    dags = nh.full_dags(7)
    assert len(dags) == 4793 and dags.sum((1, 2)).max() == nh.MAX_EDGES


def test_small_enumeration_counts_and_rehashes(small_table):
    counts = np.bincount(small_table.num_vertices, minlength=6)[2:]
    assert counts.tolist() == [1, 6, 84, 2441]
    keys = [small_table.key(r) for r in range(len(small_table))]
    assert keys == sorted(set(keys))
    for row, key in enumerate(keys):
        assert nh.module_hash(*small_table.cell(row)) == key


def test_table_lookup_finds_rows_and_names_unknown_keys(small_table):
    rows = [0, 17, len(small_table) - 1]
    keys = [small_table.key(r) for r in rows]
    assert small_table.index(keys[::-1]).tolist() == rows[::-1]
    with pytest.raises(DataError, match="f" * 32):
        small_table.index([keys[0], "f" * 32])
    with pytest.raises(DataError, match="not a 32-hex"):
        small_table.index(["abc"])


def test_table_file_round_trip_and_cache_reuse(small_table, tmp_path, monkeypatch):
    nh.save_table(small_table, nh.table_path(tmp_path))
    monkeypatch.setattr(nh, "enumerate_cells", lambda **kw: pytest.fail("the cached table was not used"))
    loaded = nh.cell_table(tmp_path, progress=False)
    for field in ("hashes", "num_vertices", "matrices", "labels"):
        assert np.array_equal(getattr(loaded, field), getattr(small_table, field))


def test_unreadable_table_is_a_data_error(tmp_path):
    path = tmp_path / "table.npz"
    path.write_bytes(b"not an npz")
    with pytest.raises(DataError, match="table.npz"):
        nh.load_table(path)


# ---------------------------------------------------------------------------- the nb101 loader
def write_data_20k(root, keys, accuracies):
    path = root / DATA_20K
    path.parent.mkdir(parents=True)
    n = len(keys)
    columns = {"key": keys, "trainable_parameters": list(range(1000, 1000 + n)),
               "final_training_time": [600.5] * n, "108_final_validation_accuracy": accuracies,
               **{f"{e}_final_validation_accuracy": [0.1 * (i + 1) for i in range(n)] for e in (4, 12, 36)}}
    path.write_text(json.dumps(columns))
    return path


@pytest.fixture
def small_cache(small_table, tmp_path, monkeypatch):
    """A cache directory whose hash table holds the cells of at most 5 vertices."""
    monkeypatch.setenv("GENNAPE_CACHE", str(tmp_path / "cache"))
    nh.save_table(small_table, nh.table_path())
    return small_table


def test_loader_recovers_cells_and_labels(small_cache, tmp_path):
    rows = [3, 100, 2000]
    keys = [small_cache.key(r) for r in rows]
    write_data_20k(tmp_path, keys, [0.9, 0.85, 0.095])
    records = load("nb101", tmp_path)
    assert [r.extra["hash"] for r in records] == keys
    assert [r.spec.hash for r in records] == keys
    for rec, row in zip(records, rows):
        matrix, labels = small_cache.cell(row)
        assert rec.spec == NB101Spec.from_cell(matrix, op_names(labels))
    assert [r.accuracy for r in records] == pytest.approx([90.0, 85.0, 9.5])
    assert [r.extra["params"] for r in records] == [1000, 1001, 1002]
    assert records[1].extra["val_accuracy_36ep"] == pytest.approx(20.0)
    assert records[0].extra["training_time_s"] == 600.5
    assert records[0].extra["label_source"] == "108-epoch validation accuracy, single run"


def test_loader_rejects_an_unknown_key(small_cache, tmp_path):
    write_data_20k(tmp_path, [small_cache.key(0), "0" * 32], [0.9, 0.9])
    with pytest.raises(DataError, match="data-20k.json.*" + "0" * 32):
        load("nb101", tmp_path)


def test_loader_names_a_missing_file_and_its_source(tmp_path):
    with pytest.raises(DataError, match="data-20k.json.*NAS-Bench-101"):
        load("nb101", tmp_path)


def test_loader_rejects_ragged_missing_or_non_numeric_columns(small_cache, tmp_path):
    path = write_data_20k(tmp_path, [small_cache.key(0)], [0.9])
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "trainable_parameters": [1, 2]}))
    with pytest.raises(DataError, match="unequal length"):
        load("nb101", tmp_path)
    path.write_text(json.dumps({**data, "trainable_parameters": [None]}))
    with pytest.raises(DataError, match="row 0.*non-numeric"):
        load("nb101", tmp_path)
    del data["final_training_time"]
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="final_training_time"):
        load("nb101", tmp_path)


# ---------------------------------------------------------------------------- the full space
@pytest.mark.slow
@pytest.mark.data("raw/nasbench101")
def test_full_enumeration_recovers_every_data_20k_key(tmp_path):
    table = nh.cell_table(tmp_path, progress=False)
    counts = np.bincount(table.num_vertices, minlength=8)[2:]
    assert counts.tolist() == [nh.CELLS_PER_VERTEX_COUNT[v] for v in range(2, 8)] and len(table) == 423_624
    keys = json.loads((data_root() / DATA_20K).read_text())["key"]
    rows = table.index(keys)
    assert [table.key(r) for r in rows] == keys
