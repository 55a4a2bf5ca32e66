"""NAS-Bench-101 cells recovered from their module hashes.

The NB-101 sample here is keyed by the official module hash only, so the cell (adjacency, ops) of
each key is found by enumerating the whole space once, hashing every cell, and caching the
hash -> cell table in the user cache directory.
"""

from __future__ import annotations

import itertools
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from ..errors import DataError, SpecError
from ..families.nb101 import (CELLS_PER_VERTEX_COUNT, INPUT_LABEL, MAX_EDGES, MAX_VERTICES, OPS, OUTPUT_LABEL,
                              module_hashes)
from ..files import cache_root, save_npz_atomically

#: hash label of the padding vertices of ``data-1k.json`` (``INPUT_LABEL`` -1 and ``OUTPUT_LABEL`` -2,
#: re-exported here, label the input and output vertices; an interior op's label is its index in ``OPS``)
PADDING_LABEL = -3
#: bump when the table layout or the enumeration changes
TABLE_VERSION = 1


def module_hash(matrix, labels: Sequence[int]) -> str:
    """NB-101's ``hash_module`` of a pruned cell: 32 hex characters, isomorphism-invariant.
    ``labels``: -1 input, -2 output, 0/1/2 the ops of ``OPS``. Checks that the matrix fits the
    labels, then hashes with :func:`gennape.families.nb101.module_hashes`, the one implementation
    (which :func:`~gennape.families.nb101.nb101_hash` uses too)."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] != len(labels):
        raise SpecError(f"a {matrix.shape} adjacency does not fit {len(labels)} labels")
    return module_hashes(matrix, [labels])[0]


def full_dags(num_vertices: int) -> np.ndarray:
    """Every upper-triangular 0/1 adjacency ``(n, V, V)`` with at most 9 edges in which every vertex
    but the input has an in-edge and every vertex but the output an out-edge. In an upper-triangular
    graph that puts every vertex on an input-to-output path, so NB-101's pruning keeps them whole."""
    rows, cols = np.triu_indices(num_vertices, 1)
    codes = np.arange(2 ** len(rows), dtype=np.int64)
    bits = ((codes[:, None] >> np.arange(len(rows))) & 1).astype(np.uint8)
    bits = bits[bits.sum(1) <= MAX_EDGES]
    matrices = np.zeros((len(bits), num_vertices, num_vertices), np.uint8)
    matrices[:, rows, cols] = bits
    connected = (matrices.sum(1)[:, 1:] > 0).all(1) & (matrices.sum(2)[:, :-1] > 0).all(1)
    return matrices[connected]


def _one_per_isomorphism_class(matrices: np.ndarray) -> list[np.ndarray]:
    """One graph of each unlabelled isomorphism class. Isomorphic graphs yield the same labelled
    cells, so labelling one of them suffices. Classes are told apart by the module hash with every
    interior vertex labelled 0: NB-101's authors verified that it separates all non-isomorphic cells
    of this space (and :func:`enumerate_cells` checks the resulting counts)."""
    if not len(matrices):
        return []
    n = matrices.shape[1]
    uniform = (INPUT_LABEL, *[0] * (n - 2), OUTPUT_LABEL)
    classes: dict[str, np.ndarray] = {}
    for m in matrices:
        classes.setdefault(module_hashes(m, [uniform])[0], m)
    return list(classes.values())


@dataclass(frozen=True)
class CellTable:
    """Every NB-101 cell, sorted by hash. ``hashes`` (N, 16) uint8 MD5 digests, ``num_vertices``
    (N,), ``matrices`` (N, 7, 7) uint8 zero-padded, ``labels`` (N, 7) int8 padded with -3."""
    hashes: np.ndarray
    num_vertices: np.ndarray
    matrices: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)

    def index(self, keys: Sequence[str]) -> np.ndarray:
        """Row of each 32-hex key; :class:`DataError` naming the first key not in the table."""
        bad = next((k for k in keys if not _is_hex_hash(k)), None)
        if bad is not None:
            raise DataError(f"{bad!r} is not a 32-hex NB-101 module hash")
        query = np.array([bytes.fromhex(k) for k in keys], dtype="S16")
        # S16 compares all 16 bytes, so this is an exact binary search on the digests
        table = np.ascontiguousarray(self.hashes).view("S16").ravel()
        rows = np.minimum(np.searchsorted(table, query), len(table) - 1)
        missing = np.flatnonzero(table[rows] != query) if len(table) else np.arange(len(query))
        if len(missing):
            raise DataError(f"NB-101 hash {keys[missing[0]]!r} is not a cell of the space "
                            f"({len(missing)} of {len(keys)} keys unknown)")
        return rows

    def cell(self, row: int) -> tuple[np.ndarray, list[int]]:
        """(V x V int adjacency, V labels) of one row."""
        v = int(self.num_vertices[row])
        return self.matrices[row, :v, :v].astype(int), self.labels[row, :v].tolist()

    def key(self, row: int) -> str:
        return self.hashes[row].tobytes().hex()


def _is_hex_hash(key) -> bool:
    try:
        return isinstance(key, str) and len(key) == 32 and len(bytes.fromhex(key)) == 16
    except ValueError:
        return False


def enumerate_cells(max_vertices: int = MAX_VERTICES, progress: bool = True) -> CellTable:
    """Enumerate and hash every NB-101 cell with at most ``max_vertices`` vertices (about half a
    million hashes for the full space: tens of seconds)."""
    graphs = [g for v in range(2, max_vertices + 1) for g in _one_per_isomorphism_class(full_dags(v))]
    cells: dict[str, tuple[np.ndarray, tuple[int, ...]]] = {}
    for matrix in tqdm(graphs, desc="hashing NB-101 cells", unit="graph", disable=not progress):
        interiors = itertools.product(range(len(OPS)), repeat=len(matrix) - 2)
        labellings = [(INPUT_LABEL, *interior, OUTPUT_LABEL) for interior in interiors]
        for key, labels in zip(module_hashes(matrix, labellings), labellings):
            cells.setdefault(key, (matrix, labels))
    counts = np.bincount([len(m) for m, _ in cells.values()], minlength=max_vertices + 1)
    expected = [CELLS_PER_VERTEX_COUNT[v] for v in range(2, max_vertices + 1)]
    if counts[2:].tolist() != expected:  # the enumeration itself is broken: never cache it
        raise RuntimeError(f"NB-101 enumeration found {counts[2:].tolist()} cells for 2..{max_vertices} "
                           f"vertices, expected {expected}")
    keys = sorted(cells)
    matrices = np.zeros((len(keys), MAX_VERTICES, MAX_VERTICES), np.uint8)
    labels = np.full((len(keys), MAX_VERTICES), PADDING_LABEL, np.int8)
    num_vertices = np.zeros(len(keys), np.uint8)
    for row, key in enumerate(keys):
        matrix, labelling = cells[key]
        v = len(matrix)
        matrices[row, :v, :v], labels[row, :v], num_vertices[row] = matrix, labelling, v
    hashes = np.frombuffer(b"".join(bytes.fromhex(k) for k in keys), np.uint8).reshape(-1, 16)
    return CellTable(hashes, num_vertices, matrices, labels)


def table_path(cache_dir: str | Path | None = None) -> Path:
    return cache_root(cache_dir) / f"nb101_cells_v{TABLE_VERSION}.npz"


def save_table(table: CellTable, path: str | Path) -> None:
    """Write ``table`` as a pickle-free npz, the 7x7 matrices bit-packed to 7 bytes each."""
    packed = np.packbits(table.matrices.reshape(len(table), -1), axis=1)
    save_npz_atomically(path, version=np.array(TABLE_VERSION), hashes=table.hashes,
                        num_vertices=table.num_vertices, matrices=packed, labels=table.labels)


def load_table(path: str | Path) -> CellTable:
    try:
        with np.load(path, allow_pickle=False) as z:
            version = int(z["version"])
            if version != TABLE_VERSION:
                raise DataError(f"{path} holds NB-101 cell table v{version}, expected v{TABLE_VERSION}")
            n = len(z["hashes"])
            matrices = np.unpackbits(z["matrices"], axis=1, count=MAX_VERTICES ** 2)
            return CellTable(z["hashes"], z["num_vertices"],
                             matrices.reshape(n, MAX_VERTICES, MAX_VERTICES), z["labels"])
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise DataError(f"{path} is not a readable NB-101 cell table ({type(e).__name__}: {e})") from None


def cell_table(cache_dir: str | Path | None = None, progress: bool = True) -> CellTable:
    """The full hash -> cell table: read from the cache, or enumerated once and cached."""
    path = table_path(cache_dir)
    if path.is_file():
        try:
            return load_table(path)
        except DataError:
            pass  # stale or damaged: rebuild below and overwrite it
    table = enumerate_cells(progress=progress)
    save_table(table, path)
    return table
