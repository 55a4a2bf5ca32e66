"""Node features of a computation graph, as PyTorch Geometric data.

Every node gets an **op id** (its index in :data:`gennape.graph.ops.OPS`, looked up in an embedding
table by the encoder) and a vector of :data:`NUM_ATTRIBUTES` **attribute features**. GENNAPE's
features (Mills et al., AAAI 2023, https://arxiv.org/abs/2211.17226: op one-hot, input/output H, W,
C divided by 256/512, kernel size and bias of weighted ops) are kept; the rest are added so that
networks unlike the training family are still described:
an op whose embedding never trained (hardswish, layernorm, an out-of-vocabulary op) still has its
coarse class, shapes and cost.

====================  ====  =========================================================================
feature               cols  value
====================  ====  =========================================================================
shape (linear)        6     (H_in, W_in, C_in, H_out, W_out, C_out) / (256, 256, 512, ...), clipped
                            to 10 (the paper's scale: a 32 px, 512-channel tensor is (0.125, 1);
                            the paper orders the six values differently, a linear layer does not care)
shape (log)           6     log2(1 + v) / log2(1 + scale): 256 px or 512 channels -> 1, a 600 px
                            input -> 1.15, 2048 channels -> 1.22, so large nets stay in range
kernel                2     log2(1 + k) / 3 for (kh, kw) of convs and pools (0 for other ops);
                            k = 7 -> 1, k = 11 -> 1.19: a scalar, not an index capped at 7
stride                2     log2(stride): 0 for stride 1, 1 for stride 2
dilation              1     log2(dilation)
depthwise             1     1 when every input channel is its own group (groups == C_in > 1)
grouped               1     1 for 1 < groups < C_in
bias                  1     1 when a weighted op has a bias
coarse class          7     one-hot: weighted, normalisation, activation, pooling (incl. global
                            mean and resampling), arithmetic (add/sub/mul/div/matmul/concat),
                            input/output, other (pad, zero, unclassified)
out of vocabulary     1     1 for ``oov`` nodes (their class comes from their original name)
MACs                  1     log10(1 + MACs) / 9 (1 GMAC -> 1)
params                1     log10(1 + params) / 7 (10 M parameters -> 1)
====================  ====  =========================================================================

Edges are the graph's directed data-flow edges (``edge_index[0]`` = source, ``[1]`` = destination),
without reverse edges, as in GENNAPE. :func:`graphs_to_batch` converts many graphs at once with one
vectorised pass over their concatenated node columns. ``FEATURE_VERSION`` changes whenever the
features change, so stored encoders can refuse incompatible inputs.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from ..errors import GennapeError
from ..graph.compute_graph import ComputeGraph
from ..graph.ops import OPS

FEATURE_VERSION = 1

NUM_OPS = len(OPS)

COARSE_CLASSES = ("weighted", "normalisation", "activation", "pooling", "arithmetic", "io", "other")

_VOCAB_CLASS = {
    "conv": "weighted", "depthwise": "weighted", "group_conv": "weighted", "linear": "weighted",
    "batchnorm": "normalisation", "layernorm": "normalisation", "groupnorm": "normalisation",
    "relu": "activation", "relu6": "activation", "leaky_relu": "activation", "sigmoid": "activation",
    "tanh": "activation", "swish": "activation", "hardswish": "activation", "hardsigmoid": "activation",
    "gelu": "activation", "softmax": "activation",
    "maxpool": "pooling", "avgpool": "pooling", "mean": "pooling", "upsample": "pooling",
    "add": "arithmetic", "sub": "arithmetic", "mul": "arithmetic", "div": "arithmetic",
    "matmul": "arithmetic", "concat": "arithmetic",
    "input": "io", "output": "io",
}

# Substrings that classify an out-of-vocabulary op name, tried in this order: "maxpool" is pooling
# before "max" is arithmetic, and "softmax"/"hardmax" are activations for the same reason.
_OOV_KEYWORDS = (
    ("weighted", ("conv", "linear", "gemm", "dense")),
    ("normalisation", ("norm", "lrn")),
    ("activation", ("relu", "elu", "sigmoid", "tanh", "swish", "silu", "mish", "softmax", "hardmax",
                    "softplus", "softsign", "erf")),
    ("pooling", ("pool", "mean", "upsample", "resize", "interp", "reduce")),
    ("arithmetic", ("add", "sub", "mul", "div", "matmul", "concat", "cat", "max", "min", "pow",
                    "sum", "where")),
)

_OP_CLASS = np.array([COARSE_CLASSES.index(_VOCAB_CLASS.get(op, "other")) for op in OPS], dtype=np.int64)
_SHAPE_SCALE = np.array([256, 256, 512, 256, 256, 512], dtype=np.float32)
_LOG_SHAPE_SCALE = np.log2(1 + _SHAPE_SCALE)
_FEATURE_COLUMNS = (("shape", 6), ("log_shape", 6), ("kernel", 2), ("stride", 2), ("dilation", 1),
                    ("depthwise", 1), ("grouped", 1), ("bias", 1), ("class", len(COARSE_CLASSES)),
                    ("oov", 1), ("macs", 1), ("params", 1))
NUM_ATTRIBUTES = sum(width for _, width in _FEATURE_COLUMNS)
#: Where each feature of the table above lies in the attribute vector.
FEATURE_SLICES: dict[str, slice] = {
    name: slice(end - width, end)
    for (name, width), end in zip(_FEATURE_COLUMNS, np.cumsum([w for _, w in _FEATURE_COLUMNS]).tolist())}


@functools.lru_cache(maxsize=None)
def coarse_class(op_name: str) -> str:
    """The coarse class of an op name (vocabulary or not), one of :data:`COARSE_CLASSES`."""
    name = op_name.lower()
    if name in _VOCAB_CLASS:
        return _VOCAB_CLASS[name]
    for cls, keywords in _OOV_KEYWORDS:
        if any(k in name for k in keywords):
            return cls
    return "other"


def _attributes(op_ids: np.ndarray, shapes: np.ndarray, kernels: np.ndarray, strides: np.ndarray,
                dilations: np.ndarray, groups: np.ndarray, bias: np.ndarray, macs: np.ndarray,
                params: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The (N, NUM_ATTRIBUTES) float32 attribute matrix of N nodes given as columns."""
    n = len(op_ids)
    shapes = shapes.astype(np.float32)
    c_in = shapes[:, 2]
    groups = groups.astype(np.float32)
    one_hot = np.zeros((n, len(COARSE_CLASSES)), dtype=np.float32)
    one_hot[np.arange(n), classes] = 1.0
    columns = [
        np.minimum(shapes / _SHAPE_SCALE, 10.0),
        np.log2(1.0 + np.maximum(shapes, 0.0)) / _LOG_SHAPE_SCALE,
        np.log2(1.0 + kernels.astype(np.float32)) / 3.0,
        np.log2(np.maximum(strides, 1).astype(np.float32)),
        np.log2(np.maximum(dilations, 1).astype(np.float32))[:, None],
        ((groups > 1) & (groups == c_in))[:, None],
        ((groups > 1) & (groups < c_in))[:, None],
        bias[:, None],
        one_hot,
        (op_ids == 0)[:, None],
        (np.log10(1.0 + macs.astype(np.float64)) / 9.0)[:, None],
        (np.log10(1.0 + params.astype(np.float64)) / 7.0)[:, None],
    ]
    return np.concatenate([np.asarray(c, dtype=np.float32) for c in columns], axis=1)


def _classes(op_ids: np.ndarray, oov: Sequence[tuple[int, str]]) -> np.ndarray:
    classes = _OP_CLASS[op_ids]
    for node, name in oov:
        classes[node] = COARSE_CLASSES.index(coarse_class(name))
    return classes


def node_features(graph: ComputeGraph) -> tuple[np.ndarray, np.ndarray]:
    """(op ids (N,) int64, attribute features (N, NUM_ATTRIBUTES) float32) of one graph."""
    op_ids = graph.op_ids.astype(np.int64)
    classes = _classes(op_ids, list(graph.oov_names.items()))
    return op_ids, _attributes(op_ids, graph.shapes, graph.kernels, graph.strides, graph.dilations,
                               graph.groups, graph.bias, graph.macs, graph.param_counts, classes)


def graph_to_data(graph: ComputeGraph) -> Data:
    """One graph as ``Data(op, x, edge_index, graph_macs)``: op ids, attribute features, directed
    edges, total MACs."""
    op_ids, x = node_features(graph)
    return Data(op=torch.from_numpy(op_ids), x=torch.from_numpy(x),
                edge_index=torch.from_numpy(graph.edges.T.astype(np.int64)), num_nodes=graph.num_nodes,
                graph_macs=torch.tensor([float(graph.flops)], dtype=torch.float64))


def graphs_to_batch(graphs: Sequence[ComputeGraph]) -> Batch:
    """Many graphs as one disjoint-union ``Batch`` (``op``, ``x``, ``edge_index``, ``batch``, ``ptr``,
    and ``graph_macs``, each graph's total MACs), built from concatenated columns rather than graph by graph."""
    if not graphs:
        raise GennapeError("graphs_to_batch needs at least one graph")
    counts = np.fromiter((g.num_nodes for g in graphs), dtype=np.int64, count=len(graphs))
    ptr = np.concatenate([[0], np.cumsum(counts)])
    cols = {key: np.concatenate([getattr(g, key) for g in graphs])
            for key in ("op_ids", "shapes", "kernels", "strides", "dilations", "groups", "bias", "macs",
                        "param_counts")}
    op_ids = cols["op_ids"].astype(np.int64)
    oov = [(int(p) + i, name) for g, p in zip(graphs, ptr) for i, name in g.oov_names.items()]
    x = _attributes(op_ids, cols["shapes"], cols["kernels"], cols["strides"], cols["dilations"],
                    cols["groups"], cols["bias"], cols["macs"], cols["param_counts"], _classes(op_ids, oov))
    edge_counts = np.fromiter((g.num_edges for g in graphs), dtype=np.int64, count=len(graphs))
    edges = np.concatenate([g.edges for g in graphs]).astype(np.int64)
    edges += np.repeat(ptr[:-1], edge_counts)[:, None]
    return Batch(op=torch.from_numpy(op_ids), x=torch.from_numpy(x),
                 edge_index=torch.from_numpy(np.ascontiguousarray(edges.T)),
                 batch=torch.from_numpy(np.repeat(np.arange(len(graphs)), counts)),
                 ptr=torch.from_numpy(ptr),  # Batch.num_graphs reads len(ptr) - 1
                 graph_macs=torch.tensor([float(g.flops) for g in graphs], dtype=torch.float64))
