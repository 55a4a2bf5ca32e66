"""Random computation graphs for tests and benchmarks: cell-based DAGs of convolutions (kernels up
to 11, depthwise), pools, activations (some out of the vocabulary), adds and concats."""

from __future__ import annotations

import numpy as np

from gennape.graph import ComputeGraph, GraphBuilder

KERNELS = (1, 3, 5, 7, 9, 11)
ACTIVATIONS = ("relu", "relu6", "hardswish", "swish", "mish", "erf")  # mish and erf are not in OPS


def random_network(rng: np.random.Generator, num_cells: int, hw: int = 32, channels: int = 16,
                   name: str = "random") -> ComputeGraph:
    """A stem, ``num_cells`` random cells (about 10 nodes each; reductions at 1/3 and 2/3), a head.
    Inside a cell every tensor has the cell's shape, so any two can be added or concatenated."""
    b = GraphBuilder(name)
    x = b.relu(b.bn(b.conv(b.input((3, hw, hw)), channels, 3)))
    reductions = {num_cells // 3, 2 * num_cells // 3} - {0}
    for cell in range(num_cells):
        if cell in reductions:
            channels *= 2
            x = b.relu(b.bn(b.conv(x, channels, 3, stride=2)))
        tensors = [x]
        for _ in range(rng.integers(2, 6)):
            a = tensors[rng.integers(len(tensors))]
            kind = rng.choice(["conv", "depthwise", "pool", "act", "add", "concat"])
            if kind == "conv":
                y = b.relu(b.bn(b.conv(a, channels, int(rng.choice(KERNELS)))))
            elif kind == "depthwise":
                y = b.bn(b.conv(a, channels, int(rng.choice(KERNELS)), groups=channels))
            elif kind == "pool":
                y = b.pool(a, str(rng.choice(["maxpool", "avgpool"])), 3)
            elif kind == "act":
                y = b.act(a, str(rng.choice(ACTIVATIONS)))
            elif kind == "add" and len(tensors) > 1:
                y = b.add(a, tensors[rng.integers(len(tensors))])
            elif kind == "concat" and len(tensors) > 1:
                y = b.conv(b.concat([a, tensors[rng.integers(len(tensors))]]), channels, 1)
            else:
                y = b.act(a, "sigmoid")
            tensors.append(y)
        x = b.add(*tensors[-2:])
    b.output(b.linear(b.mean(x), 10))
    return b.build()


def random_networks(n: int, seed: int = 0, cells: tuple[int, int] = (3, 12), hw: int = 32) -> list[ComputeGraph]:
    rng = np.random.default_rng(seed)
    return [random_network(rng, int(rng.integers(*cells)), hw=hw, channels=int(rng.choice([8, 16, 32])),
                           name=f"random{i}") for i in range(n)]


def relabel(graph: ComputeGraph, rng: np.random.Generator) -> ComputeGraph:
    """The same graph with its nodes renumbered in another random topological order."""
    preds = graph.predecessors()
    succs = graph.successors()
    missing = np.array([len(p) for p in preds])
    ready = list(np.flatnonzero(missing == 0))
    order = []
    while ready:
        v = ready.pop(int(rng.integers(len(ready))))
        order.append(v)
        for d in succs[v]:
            missing[d] -= 1
            if missing[d] == 0:
                ready.append(d)
    order = np.asarray(order)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    edges = rank[graph.edges]
    return ComputeGraph(op_ids=graph.op_ids[order], shapes=graph.shapes[order], kernels=graph.kernels[order],
                        strides=graph.strides[order], dilations=graph.dilations[order],
                        groups=graph.groups[order], bias=graph.bias[order], macs=graph.macs[order],
                        param_counts=graph.param_counts[order], edges=edges[rng.permutation(len(edges))],
                        oov_names={int(rank[i]): n for i, n in graph.oov_names.items()}, name=graph.name)
