"""The computation graph (CG): atomic ops as nodes, data flow as directed edges.

:class:`ComputeGraph` holds a graph (its node columns and their units are described there) and
:class:`GraphBuilder` is the one way every route (PyTorch, ONNX, family specs) builds one; their file
format (:func:`save_graphs`, :func:`load_graphs`) is :mod:`.graph_files`. The two stay one module,
over 400 lines, because both share the private column layout (``_NODE_ARRAYS``, ``_DTYPES``) and the
builder's shape rules must stay next to the features they fill in.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np

from ..errors import GraphError
from . import cost
from .ops import COMMUTATIVE_OPS, MULTI_INPUT_OPS, OP_INDEX, OPS, VOCAB_VERSION, op_index

FORMAT_VERSION = 1
_NODE_ARRAYS = ("op_ids", "shapes", "kernels", "strides", "dilations", "groups", "bias", "macs",
                "param_counts")
_DTYPES = {"op_ids": np.int16, "shapes": np.int32, "kernels": np.int16, "strides": np.int16,
           "dilations": np.int16, "groups": np.int32, "bias": np.bool_, "macs": np.int64,
           "param_counts": np.int64}
#: columns of several values per node: their width
_WIDTHS = {"shapes": 6, "kernels": 2, "strides": 2}


@dataclass(eq=False)
class ComputeGraph:
    """A network's computation graph: one node per atomic op, one directed edge per data flow.

    Nodes are stored in topological order (every edge runs from a lower to a higher index; the
    constructor reorders them if needed) and their features column-wise, one row per node:

    * ``op_ids`` (N,) int16: index into :data:`gennape.graph.ops.OPS`; an out-of-vocabulary node has
      the ``oov`` id and ``oov_names`` (node index -> name) keeps its original op name;
    * ``shapes`` (N, 6) int32: ``(H_in, W_in, C_in, H_out, W_out, C_out)`` of the node's input and
      output tensors without the batch: a (C, H, W) feature map is (H, W, C), a token tensor (N, D) is
      (N, 1, D), a vector (D,) is (1, 1, D) (see :func:`hwc`). Multi-input ops record their first
      operand (commutative ops: the largest);
    * ``kernels`` and ``strides`` (N, 2) int16: (kh, kw) and (sh, sw) of convolutions and pools
      ((0, 0) and (1, 1) where they do not apply); ``dilations`` (N,) int16; ``groups`` (N,) int32;
      ``bias`` (N,) bool, whether a weighted op has a bias;
    * ``macs`` (N,) int64: the node's multiply-accumulates (MACs): non-zero only for convolutions,
      linear layers and matrix products; one MAC counts as one FLOP (see :mod:`gennape.graph.cost`);
    * ``param_counts`` (N,) int64: the node's trainable parameters (weights, biases, affine scale and
      shift of normalisation layers; running statistics are not parameters).

    ``edges`` (E, 2) int32: (source, destination) node indices. :attr:`flops` (total MACs) and
    :attr:`params` (total parameter count) sum the cost columns. Two graphs compare equal when they
    are isomorphic with equal node features (:meth:`canonical_form`); ``name`` is only a label.
    """
    op_ids: np.ndarray
    shapes: np.ndarray
    kernels: np.ndarray
    strides: np.ndarray
    dilations: np.ndarray
    groups: np.ndarray
    bias: np.ndarray
    macs: np.ndarray
    param_counts: np.ndarray
    edges: np.ndarray
    oov_names: dict[int, str] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self):
        for key in _NODE_ARRAYS:
            setattr(self, key, _column(key, getattr(self, key)))
        edges = np.asarray(self.edges, dtype=np.int32)
        if edges.size % 2 or (edges.size and edges.shape[-1] != 2):
            raise GraphError(f"edges must be (source, destination) pairs, got an array of shape {edges.shape}")
        self.edges = edges.reshape(-1, 2)
        n = len(self.op_ids)
        for key in _NODE_ARRAYS:
            if len(getattr(self, key)) != n:
                raise GraphError(f"node array {key!r} has {len(getattr(self, key))} rows, expected {n}")
        if n and (self.op_ids.min() < 0 or self.op_ids.max() >= len(OPS)):
            raise GraphError(f"op ids must lie in 0..{len(OPS) - 1} (the op vocabulary v{VOCAB_VERSION}), got "
                             f"{self.op_ids.min()}..{self.op_ids.max()}")
        if len(self.edges) and (self.edges.min() < 0 or self.edges.max() >= n):
            raise GraphError(f"an edge refers to a node outside 0..{n - 1}")
        if len(self.edges) and not (self.edges[:, 0] < self.edges[:, 1]).all():
            self._sort_topologically()
        self._canonical: bytes | None = None

    # ---------------------------------------------------------------- basic properties
    @property
    def num_nodes(self) -> int:
        return len(self.op_ids)

    @property
    def num_edges(self) -> int:
        return len(self.edges)

    @property
    def ops(self) -> list[str]:
        """Op name of every node (out-of-vocabulary nodes report their original name)."""
        return [self.oov_names.get(i, OPS[o]) if o == 0 else OPS[o] for i, o in enumerate(self.op_ids)]

    @property
    def topological_order(self) -> np.ndarray:
        """Nodes are stored topologically sorted, so this is ``0..N-1``."""
        return np.arange(self.num_nodes)

    @property
    def flops(self) -> int:
        """Total multiply-adds of convolutions, linear layers and matrix products (1 MAC = 1 FLOP)."""
        return int(self.macs.sum())

    @property
    def params(self) -> int:
        """Total trainable parameters."""
        return int(self.param_counts.sum())

    @property
    def input_nodes(self) -> np.ndarray:
        return np.flatnonzero(self.op_ids == OP_INDEX["input"])

    @property
    def output_nodes(self) -> np.ndarray:
        return np.flatnonzero(self.op_ids == OP_INDEX["output"])

    @property
    def oov_ops(self) -> list[str]:
        """Names of the out-of-vocabulary ops in this graph, sorted, each once."""
        return sorted(set(self.oov_names.values()))

    def predecessors(self) -> list[list[int]]:
        preds: list[list[int]] = [[] for _ in range(self.num_nodes)]
        for s, d in self.edges.tolist():
            preds[d].append(s)
        return preds

    def successors(self) -> list[list[int]]:
        succs: list[list[int]] = [[] for _ in range(self.num_nodes)]
        for s, d in self.edges.tolist():
            succs[s].append(d)
        return succs

    def summary(self) -> str:
        counts = Counter(self.ops)
        top = ", ".join(f"{op}×{n}" for op, n in counts.most_common(8))
        more = f", +{len(counts) - 8} more op types" if len(counts) > 8 else ""
        return (f"{self.name or 'graph'}: {self.num_nodes} nodes, {self.num_edges} edges, "
                f"{self.flops / 1e6:,.2f} MFLOPs (MACs), {self.params / 1e6:,.3f} M params; {top}{more}")

    def __repr__(self) -> str:
        return (f"ComputeGraph(name={self.name!r}, nodes={self.num_nodes}, edges={self.num_edges}, "
                f"flops={self.flops}, params={self.params})")

    # ---------------------------------------------------------------- ordering and validation
    def _sort_topologically(self) -> None:
        order = _topological_sort(self.num_nodes, self.edges)
        if order is None:
            raise GraphError("the graph has a cycle")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        for key in _NODE_ARRAYS:
            setattr(self, key, getattr(self, key)[order])
        self.edges = rank[self.edges].astype(np.int32)
        self.oov_names = {int(rank[i]): name for i, name in self.oov_names.items()}

    def validate(self) -> "ComputeGraph":
        """Check the graph is a DAG, reachable from its inputs, with shapes consistent along edges.

        Raises :class:`GraphError` listing the first problems found; returns ``self`` otherwise.
        """
        problems: list[str] = []
        n = self.num_nodes
        if n == 0:
            raise GraphError("the graph has no nodes")
        inputs = self.input_nodes
        if len(inputs) == 0:
            problems.append("no input node")
        if len(self.edges) and not (self.edges[:, 0] < self.edges[:, 1]).all():
            problems.append("edges are not in topological order")
        if len(np.unique(self.edges, axis=0)) != len(self.edges):
            problems.append("duplicate edges")
        reached = np.zeros(n, dtype=bool)
        reached[inputs] = True
        for s, d in self.edges.tolist():  # topological order makes one pass enough
            if reached[s]:
                reached[d] = True
        if not reached.all():
            bad = np.flatnonzero(~reached)[:5].tolist()
            problems.append(f"nodes not reachable from an input: {[(i, self.ops[i]) for i in bad]}")
        preds = self.predecessors()
        names = self.ops
        for v in range(n):
            op = OPS[self.op_ids[v]]
            if op == "input":
                if preds[v]:
                    problems.append(f"input node {v} has predecessors")
                continue
            if not preds[v] and op != "zero":
                problems.append(f"node {v} ({names[v]}) has no input")
                continue
            in_v = tuple(self.shapes[v, :3])
            outs = [tuple(self.shapes[u, 3:]) for u in preds[v]]
            if op in MULTI_INPUT_OPS or len(preds[v]) > 1:
                ok = any(_compatible(o, in_v) for o in outs)
            else:
                ok = _compatible(outs[0], in_v)
            if not ok:
                problems.append(f"node {v} ({names[v]}) expects input {in_v} (H, W, C) but receives {outs}")
            if len(problems) >= 8:
                break
        if problems:
            raise GraphError(f"invalid graph {self.name!r}: " + "; ".join(problems))
        return self

    # ---------------------------------------------------------------- equality under isomorphism
    def _node_labels(self) -> list[tuple]:
        cols = np.concatenate([self.op_ids[:, None], self.shapes, self.kernels, self.strides,
                               self.dilations[:, None], self.groups[:, None], self.bias[:, None],
                               self.macs[:, None], self.param_counts[:, None]], axis=1).astype(np.int64)
        labels = [tuple(row) for row in cols.tolist()]
        for i, name in self.oov_names.items():
            labels[i] = labels[i] + (name,)
        return labels

    def canonical_form(self) -> bytes:
        """A byte string that is equal for two graphs exactly when they are isomorphic with equal
        node features (colour refinement with individualisation; nodes of a DAG that stay tied after
        refinement are interchangeable in every network we have met)."""
        if self._canonical is None:
            self._canonical = _canonical_form(self._node_labels(), self.predecessors(), self.successors(),
                                              self.edges)
        return self._canonical

    def canonical_hash(self) -> str:
        return hashlib.sha1(self.canonical_form()).hexdigest()

    def is_isomorphic(self, other: "ComputeGraph") -> bool:
        """True when both graphs have the same node features under an isomorphism of their edges."""
        if not isinstance(other, ComputeGraph):
            return False
        if (self.num_nodes, self.num_edges, self.flops, self.params) != (
                other.num_nodes, other.num_edges, other.flops, other.params):
            return False
        if Counter(self.op_ids.tolist()) != Counter(other.op_ids.tolist()):
            return False
        return self.canonical_form() == other.canonical_form()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComputeGraph) and self.is_isomorphic(other)

    __hash__ = None  # mutable arrays: use canonical_hash() for a key

    def diff(self, other: "ComputeGraph") -> str:
        """A short human-readable account of how two graphs differ (for test failures)."""
        lines = []
        for key in ("num_nodes", "num_edges", "flops", "params"):
            a, b = getattr(self, key), getattr(other, key)
            if a != b:
                lines.append(f"{key}: {a} != {b}")
        ca, cb = Counter(self.ops), Counter(other.ops)
        if ca != cb:
            lines.append(f"ops only left: {dict(ca - cb)}; only right: {dict(cb - ca)}")
        la, lb = Counter(self._node_labels()), Counter(other._node_labels())
        if la != lb:
            lines.append(f"node features only left: {list((la - lb).elements())[:4]}; "
                         f"only right: {list((lb - la).elements())[:4]}")
        if not lines and not self.is_isomorphic(other):
            lines.append("same node features, different wiring")
        return "; ".join(lines) or "identical"

    # ---------------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        """A JSON-ready description (one entry per node) for inspection and interchange."""
        nodes = []
        for i, op in enumerate(self.ops):
            nodes.append({"op": op, "in_hwc": self.shapes[i, :3].tolist(), "out_hwc": self.shapes[i, 3:].tolist(),
                          "kernel": self.kernels[i].tolist(), "stride": self.strides[i].tolist(),
                          "dilation": int(self.dilations[i]), "groups": int(self.groups[i]),
                          "bias": bool(self.bias[i]), "macs": int(self.macs[i]),
                          "params": int(self.param_counts[i])})
        return {"format": FORMAT_VERSION, "vocab": VOCAB_VERSION, "name": self.name, "nodes": nodes,
                "edges": self.edges.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "ComputeGraph":
        try:
            nodes = d["nodes"]
            oov = {i: n["op"] for i, n in enumerate(nodes) if n["op"] not in OP_INDEX or n["op"] == "oov"}
            return cls(op_ids=[op_index(n["op"]) for n in nodes],
                       shapes=[n["in_hwc"] + n["out_hwc"] for n in nodes],
                       kernels=[n["kernel"] for n in nodes], strides=[n["stride"] for n in nodes],
                       dilations=[n["dilation"] for n in nodes], groups=[n["groups"] for n in nodes],
                       bias=[n["bias"] for n in nodes], macs=[n["macs"] for n in nodes],
                       param_counts=[n["params"] for n in nodes], edges=d["edges"], oov_names=oov,
                       name=d.get("name", ""))
        except (KeyError, TypeError, ValueError) as e:
            raise GraphError(f"malformed graph description: {e!r}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write this graph to ``path`` (``.npz``; see :func:`~.graph_files.save_graphs`)."""
        from .graph_files import save_graphs  # the file format builds on this module

        save_graphs(path, [self])

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ComputeGraph":
        from .graph_files import load_graphs

        graphs = load_graphs(path)
        if len(graphs) != 1:
            raise GraphError(f"{path} holds {len(graphs)} graphs; use gennape.graph.load_graphs")
        return graphs[0]


def _column(key: str, values) -> np.ndarray:
    """Node column ``key`` as its contiguous dtype: one row per node, of :data:`_WIDTHS` values where it has several."""
    arr = np.ascontiguousarray(values, dtype=_DTYPES[key])
    width = _WIDTHS.get(key)
    if width is not None and arr.size == 0:
        return arr.reshape(0, width)
    if arr.ndim != (1 if width is None else 2) or (width is not None and arr.shape[1] != width):
        wanted = "(N,)" if width is None else f"(N, {width})"
        raise GraphError(f"node array {key!r} must have shape {wanted}, got {arr.shape}")
    return arr


# -------------------------------------------------------------------- building graphs
class Tensor(NamedTuple):
    """A symbolic tensor while a graph is being built: the node that produced it and its shape
    without the batch dimension, e.g. (C, H, W) for an image feature map."""
    node: int
    shape: tuple[int, ...]

    @property
    def channels(self) -> int:
        return self.shape[0] if len(self.shape) == 3 else self.shape[-1]


def hwc(shape: Sequence[int]) -> tuple[int, int, int]:
    """(H, W, C) feature of a tensor shape without batch: (C,H,W), (N,D) -> (N,1,D), (D,) -> (1,1,D).
    Higher ranks fold their leading dimensions into C (e.g. attention heads)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return (1, 1, 1)
    if len(shape) == 1:
        return (1, 1, shape[0])
    if len(shape) == 2:
        return (shape[0], 1, shape[1])
    return (shape[-2], shape[-1], math.prod(shape[:-2]))


class GraphBuilder:
    """Builds a :class:`ComputeGraph` node by node. Every route (PyTorch, ONNX, family specs) goes
    through these methods, so they produce identical node features for identical networks.

    >>> b = GraphBuilder("tiny")
    >>> x = b.input((3, 32, 32))
    >>> x = b.relu(b.bn(b.conv(x, 16, 3)))
    >>> b.output(b.linear(b.mean(x), 10))
    >>> g = b.build()
    """

    def __init__(self, name: str = ""):
        self.name = name
        self._rows: list[tuple] = []
        self._edges: list[tuple[int, int]] = []
        self._oov: dict[int, str] = {}
        self._seen: dict[tuple, int] = {}

    # -- the one primitive
    def add_node(self, op: str, inputs: Sequence[Tensor], out_shape: Sequence[int], *,
                 kernel: tuple[int, int] = (0, 0), stride: tuple[int, int] = (1, 1), dilation: int = 1,
                 groups: int = 1, bias: bool = False, macs: int = 0, params: int = 0,
                 in_shape: Sequence[int] | None = None) -> Tensor:
        """Append a node fed by ``inputs`` and return its output tensor. Unknown ``op`` names become
        out-of-vocabulary nodes that keep the name."""
        if in_shape is None:
            if not inputs:
                in_shape = out_shape
            elif op in COMMUTATIVE_OPS:
                in_shape = max((t.shape for t in inputs), key=cost.numel)
            else:
                in_shape = inputs[0].shape
        out_shape = tuple(int(s) for s in out_shape)
        op_id = op_index(op)
        row = (op_id, hwc(in_shape) + hwc(out_shape), kernel, stride, dilation, groups, bias, macs, params)
        sources = tuple(dict.fromkeys(t.node for t in inputs))  # an op reading one tensor twice: one edge
        # A parameter-free op repeating an earlier one on the same inputs is the same computation:
        # keep one node. ONNX exporters eliminate such common subexpressions (two ReLUs of one DARTS
        # state), so every route must, or the same network would give different graphs.
        key = (row, op, sources) if params == 0 and op not in ("input", "output") else None
        if key in self._seen:
            return Tensor(self._seen[key], out_shape)
        idx = len(self._rows)
        if key is not None:
            self._seen[key] = idx
        if op_id == 0:
            self._oov[idx] = op
        self._rows.append(row)
        self._edges.extend((src, idx) for src in sources)
        return Tensor(idx, out_shape)

    def build(self, validate: bool = True) -> ComputeGraph:
        if not self._rows:
            raise GraphError(f"graph {self.name!r} has no nodes")
        cols = list(zip(*self._rows))
        g = ComputeGraph(op_ids=cols[0], shapes=cols[1], kernels=cols[2], strides=cols[3],
                         dilations=cols[4], groups=cols[5], bias=cols[6], macs=cols[7],
                         param_counts=cols[8], edges=self._edges, oov_names=dict(self._oov), name=self.name)
        return g.validate() if validate else g

    # -- convenience layers with PyTorch semantics (shapes computed here)
    def input(self, shape: Sequence[int]) -> Tensor:
        return self.add_node("input", [], tuple(shape))

    def output(self, x: Tensor) -> Tensor:
        return self.add_node("output", [x], x.shape)

    def conv(self, x: Tensor, c_out: int, kernel: int | tuple[int, int], stride: int | tuple[int, int] = 1,
             padding: int | tuple[int, int] | None = None, dilation: int = 1, groups: int = 1,
             bias: bool = False) -> Tensor:
        c_in, h, w = x.shape
        kh, kw = pair(kernel)
        sh, sw = pair(stride)
        ph, pw = pair(padding) if padding is not None else (dilation * (kh // 2), dilation * (kw // 2))
        ho = (h + 2 * ph - dilation * (kh - 1) - 1) // sh + 1
        wo = (w + 2 * pw - dilation * (kw - 1) - 1) // sw + 1
        if c_in % groups or c_out % groups or ho < 1 or wo < 1:
            raise GraphError(f"invalid conv: input {x.shape}, {c_out} out channels, kernel {kh}x{kw}, "
                             f"groups {groups}")
        macs, params = cost.conv_cost(c_in, c_out, (kh, kw), groups, (ho, wo), bias)
        return self.add_node(conv_op_name(c_in, groups), [x], (c_out, ho, wo), kernel=(kh, kw),
                             stride=(sh, sw), dilation=dilation, groups=groups, bias=bias, macs=macs,
                             params=params)

    def linear(self, x: Tensor, out_features: int, bias: bool = True) -> Tensor:
        in_features = x.shape[-1]
        rows = cost.numel(x.shape) // in_features
        macs, params = cost.linear_cost(in_features, out_features, rows, bias)
        return self.add_node("linear", [x], x.shape[:-1] + (out_features,), bias=bias, macs=macs,
                             params=params)

    def bn(self, x: Tensor, affine: bool = True) -> Tensor:
        return self.add_node("batchnorm", [x], x.shape, params=cost.norm_params(x.shape[0], affine))

    def layernorm(self, x: Tensor, affine: bool = True, bias: bool = True) -> Tensor:
        return self.add_node("layernorm", [x], x.shape, params=cost.norm_params(x.shape[-1], affine, bias))

    def act(self, x: Tensor, name: str) -> Tensor:
        return self.add_node(name, [x], x.shape)

    def relu(self, x: Tensor) -> Tensor:
        return self.act(x, "relu")

    def add(self, *xs: Tensor) -> Tensor:
        """Sum of tensors as a left fold of binary adds, as PyTorch and ONNX execute ``a + b + c``."""
        return self._elementwise("add", xs)

    def mul(self, *xs: Tensor) -> Tensor:
        return self._elementwise("mul", xs)

    def _elementwise(self, op: str, xs: Sequence[Tensor]) -> Tensor:
        acc = xs[0]  # a one-operand add/mul moves nothing (GENNAPE prunes these)
        for x in xs[1:]:
            out = tuple(int(s) for s in np.broadcast_shapes(acc.shape, x.shape))
            acc = self.add_node(op, [acc, x], out)
        return acc

    def concat(self, xs: Sequence[Tensor], dim: int = 0) -> Tensor:
        if len(xs) == 1:
            return xs[0]
        shape = list(xs[0].shape)
        shape[dim] = sum(t.shape[dim] for t in xs)
        return self.add_node("concat", xs, shape)

    def pool(self, x: Tensor, kind: str, kernel: int, stride: int = 1, padding: int | None = None,
             ceil_mode: bool = False) -> Tensor:
        c, h, w = x.shape
        p = kernel // 2 if padding is None else padding

        def size(n: int) -> int:
            num = n + 2 * p - kernel
            out = (-(-num // stride) if ceil_mode else num // stride) + 1
            if ceil_mode and (out - 1) * stride >= n + p:
                out -= 1
            return out
        return self.add_node(kind, [x], (c, size(h), size(w)), kernel=(kernel, kernel), stride=(stride, stride))

    def mean(self, x: Tensor, keepdim: bool = False) -> Tensor:
        """Global average pooling over H and W: (C, H, W) -> (C,) or (C, 1, 1)."""
        return self.add_node("mean", [x], (x.shape[0], 1, 1) if keepdim else (x.shape[0],))

    def zero(self, x: Tensor, c_out: int | None = None, stride: int = 1) -> Tensor:
        c, h, w = x.shape
        return self.add_node("zero", [x], (c_out or c, -(-h // stride), -(-w // stride)),
                             stride=(stride, stride))


def conv_op_name(c_in: int, groups: int) -> str:
    """``conv`` for groups = 1, ``depthwise`` when each input channel is its own group."""
    if groups == 1:
        return "conv"
    return "depthwise" if groups == c_in else "group_conv"


def pair(v) -> tuple[int, int]:
    """A kernel, stride, padding or dilation argument as ``(h, w)`` ints, read as PyTorch reads it:
    an integer is used for both, a one-entry sequence likewise, a longer one gives its first two."""
    if isinstance(v, numbers.Integral):
        return int(v), int(v)
    return (int(v[0]), int(v[0])) if len(v) == 1 else (int(v[0]), int(v[1]))


def _compatible(produced: tuple, consumed: tuple) -> bool:
    """Whether a node consuming ``consumed`` (H, W, C) can be fed by a tensor ``produced``: equal,
    or related by a dropped reshape (same size), a slice (an exact fraction, or no dimension larger)
    or a broadcast (a whole multiple)."""
    if produced == consumed or all(c <= p for p, c in zip(produced, consumed)):
        return True
    a, b = int(np.prod(produced)), int(np.prod(consumed))
    return a == b or (b and a % b == 0) or (a and b % a == 0)


def _topological_sort(n: int, edges: np.ndarray) -> np.ndarray | None:
    indeg = np.bincount(edges[:, 1], minlength=n) if len(edges) else np.zeros(n, dtype=int)
    succs: list[list[int]] = [[] for _ in range(n)]
    for s, d in edges.tolist():
        succs[s].append(d)
    ready = [i for i in range(n) if indeg[i] == 0]
    order = []
    while ready:
        v = ready.pop(0)
        order.append(v)
        for d in succs[v]:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    return np.asarray(order) if len(order) == n else None


def _refine(colors: list[int], preds: list[list[int]], succs: list[list[int]]) -> list[int]:
    """Colour refinement to a stable partition. Colours are ranks of content-only signatures, so
    they do not depend on node numbering."""
    n_classes = len(set(colors))
    while True:
        sigs = [(colors[v], tuple(sorted(colors[u] for u in preds[v])), tuple(sorted(colors[u] for u in succs[v])))
                for v in range(len(colors))]
        ranking = {s: i for i, s in enumerate(sorted(set(sigs)))}
        new = [ranking[s] for s in sigs]
        if len(ranking) == n_classes:
            return new
        colors, n_classes = new, len(ranking)


def _canonical_form(labels: list[tuple], preds, succs, edges: np.ndarray) -> bytes:
    ranking = {lab: i for i, lab in enumerate(sorted(set(labels), key=repr))}
    colors = _refine([ranking[lab] for lab in labels], preds, succs)
    while len(set(colors)) < len(colors):
        counts = Counter(colors)
        tied = min(c for c, k in counts.items() if k > 1)
        first = colors.index(tied)  # members of a tied class are interchangeable: pick any
        colors = [2 * c for c in colors]
        colors[first] += 1
        colors = _refine(colors, preds, succs)
    rank = np.asarray(colors)
    order = np.argsort(rank)
    canon_labels = [labels[i] for i in order]
    canon_edges = sorted(map(tuple, rank[edges].tolist())) if len(edges) else []
    return repr((canon_labels, canon_edges)).encode()


def __getattr__(name: str):
    # the file format moved to .graph_files; its functions still answer here
    if name in ("save_graphs", "load_graphs"):
        from . import graph_files

        return getattr(graph_files, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
