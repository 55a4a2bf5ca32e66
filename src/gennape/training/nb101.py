"""NAS-Bench-101 as training data: the cells' graphs and accuracies, the seeded 80/10/10 split,
the cells rebuilt at other stem widths, and unlabelled graphs of the other design spaces."""

from __future__ import annotations

import hashlib
import logging
import random
import time
import zlib
from collections.abc import Sequence

import numpy as np

from ..data import load
from ..data.graph_cache import dataset_graphs
from ..errors import GennapeError
from ..families import get as get_family
from ..families import names as family_names
from ..families.nb101 import network_graph
from ..graph.compute_graph import ComputeGraph

log = logging.getLogger("gennape.training")


def split_nb101(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val-1, val-2) cell indices: a seeded permutation, 10 % val-1, 10 % val-2, the rest train."""
    if n < 10:
        raise GennapeError(f"cannot split {n} cells 80/10/10")
    perm = np.random.default_rng(seed).permutation(n)
    k = n // 10
    return np.sort(perm[2 * k:]), np.sort(perm[:k]), np.sort(perm[k:2 * k])


def nb101_cells(max_cells: int | None = None) -> tuple[list[ComputeGraph], np.ndarray]:
    """NB-101 graphs and accuracies (percent), all 20,001 (through the graph cache) or the first few."""
    records = load("nb101")
    if max_cells is None or max_cells >= len(records):
        graphs = dataset_graphs("nb101", "nb101")
    else:
        records = records[:max_cells]
        family = get_family("nb101")
        graphs = [family.to_graph(r.spec) for r in records]
    return graphs, np.array([r.accuracy for r in records])


def widths_of_nb101(graphs: Sequence[ComputeGraph], widths: Sequence[int]) -> list[list[ComputeGraph]]:
    """``graphs`` (the NB-101 cells of :func:`nb101_cells`, 128 wide) rebuilt at each stem width of
    ``widths`` (128 reuses them)."""
    specs = [r.spec for r in load("nb101")[:len(graphs)]]
    start = time.perf_counter()
    versions = [list(graphs) if w == 128 else [network_graph(s, stem_channels=w) for s in specs] for w in widths]
    log.info("NB-101 cells rebuilt at stem widths %s: %.0f s", list(widths), time.perf_counter() - start)
    return versions


class RandomWidths(Sequence):
    """Graphs read at a random width: ``versions[k][i]`` is graph i at the k-th width, and every read of
    item i draws k uniformly, from an RNG of its own (``seed``, ``stage``) so that torch's random stream
    and the other stages are untouched."""

    def __init__(self, versions: Sequence[Sequence[ComputeGraph]], seed: int, stage: str):
        self.versions = versions
        self.rng = np.random.default_rng([seed, zlib.crc32(stage.encode())])

    def __len__(self) -> int:
        return len(self.versions[0])

    def __getitem__(self, i: int) -> ComputeGraph:
        return self.versions[self.rng.integers(len(self.versions))][i]


def sample_design_spaces(per_family: int, seed: int) -> list[ComputeGraph]:
    """``per_family`` graphs drawn uniformly from every family's design space except NB-101 (no labels)."""
    graphs = []
    for name in family_names():
        if name != "nb101":
            family, rng = get_family(name), random.Random(f"{name}:{seed}")
            graphs += [family.to_graph(family.sample(rng)) for _ in range(per_family)]
    return graphs


def graphs_digest(graphs: Sequence[ComputeGraph]) -> str:
    """A short digest of the graphs' node columns and edges: checkpoints are valid only for the same graphs."""
    digest = hashlib.sha256()
    for g in graphs:
        for column in (g.op_ids, g.shapes, g.kernels, g.macs, g.edges):
            digest.update(np.ascontiguousarray(column).tobytes())
    return digest.hexdigest()[:16]
