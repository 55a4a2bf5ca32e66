"""The live part of a computation graph: what carries information from its input to its output.

A ``zero`` node (NB-201's and TransNAS's ``none`` edge, ``0 * x``) has a data-flow edge from ``x``, but
its output does not depend on it. Everything upstream whose only way out runs through zero nodes is
dead computation, and everything downstream fed only by zeros is a constant: neither changes what the
network computes. Keeping them made functionally equal NB-201 cells different graphs (the 15,625 cells
fall into 6,466 functional classes by NB-201's ``UniqueString``; their full graphs are 12,105 distinct
graphs, with 5,428 classes on one graph; their live graphs 6,234, with 5,915 classes on one graph,
counting the 341 networks whose output does not depend on their input by their full graphs). GENNAPE
sidestepped the question by keeping only the 4,096 cells without ``none``.

Where nothing is live, the network computes a constant: it cannot beat chance, whatever it costs.
:func:`live_graph` says so by returning None, and the estimator ranks such networks last.
"""

from __future__ import annotations

import numpy as np

from .compute_graph import _NODE_ARRAYS, ComputeGraph
from .ops import OP_INDEX

_ZERO = OP_INDEX["zero"]
_OUTPUT = OP_INDEX["output"]


def live_graph(graph: ComputeGraph) -> ComputeGraph | None:
    """The subgraph of nodes on some path from a source (an input, a constant) to an output that no
    zero node interrupts; zero nodes themselves are dropped. A graph without zero nodes is returned
    as is; None when nothing is live, i.e. the network's output does not depend on its input."""
    zero = graph.op_ids == _ZERO
    if not zero.any():
        return graph
    src, dst = graph.edges[:, 0], graph.edges[:, 1]
    informative = ~zero
    informative[dst] = False  # a node with predecessors is informative when one of them is
    for s, d in zip(*_sorted(src, dst, dst)):  # by destination: a node's predecessors come first
        if informative[s] and not zero[d]:
            informative[d] = True
    live = informative & (graph.op_ids == _OUTPUT)
    if not live.any():
        return None
    for s, d in zip(*_sorted(src, dst, -src)):  # by source, last first: a node's successors come first
        if live[d] and informative[s]:
            live[s] = True
    keep = np.flatnonzero(live)
    new_index = np.full(graph.num_nodes, -1)
    new_index[keep] = np.arange(len(keep))
    edges = graph.edges[live[src] & live[dst]]
    return ComputeGraph(**{key: getattr(graph, key)[keep] for key in _NODE_ARRAYS}, edges=new_index[edges],
                        oov_names={int(new_index[i]): name for i, name in graph.oov_names.items() if live[i]},
                        name=graph.name)


def _sorted(src: np.ndarray, dst: np.ndarray, key: np.ndarray) -> tuple[list[int], list[int]]:
    order = np.argsort(key, kind="stable")
    return src[order].tolist(), dst[order].tolist()
