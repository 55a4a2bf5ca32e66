"""Scoring rules shared by every estimator: the common rank scale, FLOPs centring, networks that
compute a constant, and chunking a call into batches. Why each rule: docs/decisions.md."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..errors import GraphError
from ..graph.checks import negative_costs
from ..graph.compute_graph import ComputeGraph
from ..graph.live import live_graph
from ..graph.ops import OP_INDEX
from ..model import log10_gflops

#: graphs are scored in chunks of at most this many nodes, so huge graphs do not exhaust memory
MAX_CHUNK_NODES = 250_000


def check_graphs(graphs, what: str = "graphs") -> list[ComputeGraph]:
    """``graphs`` as a list, or :class:`GraphError` unless it is a list (any iterable) of
    :class:`ComputeGraph` with no negative cost. One bare graph is refused, not read as a list of
    its nodes: scores rank the graphs of one call, so a single graph is passed as ``[graph]``."""
    if isinstance(graphs, ComputeGraph):
        raise GraphError(f"pass a list of graphs, e.g. [graph], not one ComputeGraph ({graphs.name!r}): the "
                         "estimator scores the graphs of one call together")
    if isinstance(graphs, (str, bytes)) or not isinstance(graphs, Iterable):
        raise GraphError(f"{what} must be a list of ComputeGraphs, got {type(graphs).__name__}")
    graphs = list(graphs)
    for i, g in enumerate(graphs):
        if not isinstance(g, ComputeGraph):
            raise GraphError(f"{what}[{i}] is a {type(g).__name__}, not a ComputeGraph; convert models with "
                             "gennape.graph.from_torch, from_onnx or load_graphs")
        problem = negative_costs(g)
        if problem:
            raise GraphError(f"{what}[{i}]: {problem}")
    return graphs


def normalised_ranks(scores: np.ndarray) -> np.ndarray:
    """(rank - 0.5) / n with ties sharing their mean rank: in (0, 1), 0.5 for a single graph."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    first = np.r_[True, sorted_scores[1:] != sorted_scores[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(scores)]
    ranks = np.empty(len(scores))
    ranks[order] = ((starts + ends + 1) / 2.0)[group]  # mean of the 1-based ranks starts+1 .. ends
    return (ranks - 0.5) / max(len(scores), 1)


def flops_shift(graphs: Sequence[ComputeGraph], centre: float | None, fixed: float | None = None) -> float:
    """FLOPs centring: decades by which the heads and Eq. 5 read the FLOPs of ``graphs`` scaled, so
    that their median log10 GFLOPs sits at ``centre`` (None: no centring, 0). ``fixed``: a shift set
    by fine-tuning, used as is."""
    if centre is None or not len(graphs):
        return 0.0
    if fixed is not None:
        return fixed
    return centre - float(np.median(log10_gflops([g.flops for g in graphs])))


def live_parts(graphs: Sequence[ComputeGraph]) -> tuple[list[ComputeGraph], np.ndarray]:
    """(the live graphs (:func:`gennape.graph.live.live_graph`) of the networks whose output depends on
    their input, in order; a boolean mask of those networks among ``graphs``). The others compute a
    constant."""
    lives = [live_graph(g) for g in graphs]
    return [g for g in lives if g is not None], np.array([g is not None for g in lives], dtype=bool)


def chance_accuracy(graph: ComputeGraph) -> float:
    """Percent: the accuracy of a constant classifier over the classes of ``graph``'s first output
    (its channels; at least 2)."""
    output = np.flatnonzero(graph.op_ids == OP_INDEX["output"])
    classes = graph.shapes[output[0], 5] if len(output) else 0
    return 100.0 / max(int(classes), 2)


def chunks(graphs: Sequence[ComputeGraph]) -> Iterator[Sequence[ComputeGraph]]:
    """Consecutive runs of graphs with at most :data:`MAX_CHUNK_NODES` nodes in all (at least one graph)."""
    start, nodes = 0, 0
    for i, g in enumerate(graphs):
        if i > start and nodes + g.num_nodes > MAX_CHUNK_NODES:
            yield graphs[start:i]
            start, nodes = i, 0
        nodes += g.num_nodes
    if start < len(graphs):
        yield graphs[start:]
