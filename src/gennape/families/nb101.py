"""NAS-Bench-101: one cell (a DAG of at most 7 vertices and 9 edges whose interior vertices are
3x3 conv, 1x1 conv or 3x3 max-pool) repeated in 3 stacks of 3 cells.

A spec is the cell after NB-101's pruning, in NB-101's canonical vertex order: of all vertex orders
that keep the matrix upper-triangular, the one the official generator meets first (smallest edge
bit pattern, then smallest op labels), which is the order NB-101's data stores. Two specs are equal
exactly when their cells are isomorphic, i.e. when they have the same NB-101 hash.

Spec string: ``<ops, comma-separated>|<matrix rows as 0/1 strings, comma-separated>``, e.g.
``input,conv3x3-bn-relu,output|011,001,000``.
"""

from __future__ import annotations

import functools
import hashlib
import random
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import SpecError
from ..graph import ComputeGraph, GraphBuilder, Tensor
from .base import Family, register
from .layers import ConvBNReLU, add_all, conv_bn_relu

#: interior ops in NB-101's label order (the labels 0, 1, 2 its hash uses; input -1, output -2)
OPS = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT_LABEL, OUTPUT_LABEL = -1, -2
MAX_VERTICES = 7
MAX_EDGES = 9
#: unique cells per vertex count (2..7), as counted by NB-101's generator; 423,624 in all
CELLS_PER_VERTEX_COUNT = {2: 1, 3: 6, 4: 84, 5: 2441, 6: 62010, 7: 359082}

Matrix = tuple[tuple[int, ...], ...]


def _check_cell(matrix: Sequence[Sequence], ops: Sequence[str]) -> tuple[list[list[int]], list[str]]:
    """The cell as plain lists, or :class:`SpecError` naming what is wrong."""
    try:
        m = [[int(v) for v in row] for row in matrix]
    except (TypeError, ValueError):
        raise SpecError(f"an NB-101 matrix must be a square 0/1 matrix, got {matrix!r}") from None
    n = len(m)
    if any(len(row) != n for row in m) or any(v not in (0, 1) for row in m for v in row):
        raise SpecError(f"an NB-101 matrix must be a square 0/1 matrix, got {m}")
    if not 2 <= n <= MAX_VERTICES:
        raise SpecError(f"an NB-101 cell has 2 to {MAX_VERTICES} vertices, got {n}")
    if any(m[i][j] for i in range(n) for j in range(i + 1)):
        raise SpecError(f"an NB-101 matrix must be strictly upper-triangular, got {m}")
    ops = list(ops)
    if len(ops) != n:
        raise SpecError(f"an NB-101 cell with {n} vertices needs {n} ops, got {ops}")
    if ops[0] != "input" or ops[-1] != "output":
        raise SpecError(f"NB-101 ops must start with 'input' and end with 'output', got {ops}")
    bad = [op for op in ops[1:-1] if op not in OPS]
    if bad:
        raise SpecError(f"unknown NB-101 op(s) {bad}; known: {', '.join(OPS)}")
    return m, ops


def _prune(m: list[list[int]], ops: list[str]) -> tuple[list[list[int]], list[str]]:
    """Drop the vertices that are not on an input -> output path (as NB-101's ModelSpec does)."""
    n = len(m)
    forward, backward = {0}, {n - 1}
    for j in range(1, n):
        if any(m[i][j] for i in forward if i < j):
            forward.add(j)
    for i in range(n - 2, -1, -1):
        if any(m[i][j] for j in backward if j > i):
            backward.add(i)
    if n - 1 not in forward:
        raise SpecError(f"NB-101 cell {ops} has no path from input to output")
    keep = sorted(forward & backward)
    return [[m[i][j] for j in keep] for i in keep], [ops[i] for i in keep]


def _orderings(m: list[list[int]], ops: list[str]) -> set[tuple[int, tuple[int, ...]]]:
    """Every distinct (edge bits, interior labels) of the cell under the vertex orders that keep
    the input first, the output last and the matrix upper-triangular (the linear extensions of the
    DAG). Edge (i, j) is bit ``i + j(j-1)/2``, the order of NB-101's generator."""
    n = len(m)
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if m[i][j]]
    preds = [[i for i in range(1, j) if m[i][j]] for j in range(n)]
    labels = [OPS.index(op) if 0 < v < n - 1 else 0 for v, op in enumerate(ops)]
    found = set()
    pos = [0] * n
    pos[n - 1] = n - 1

    def extend(order: list[int]) -> None:
        if len(order) == n - 2:
            bits = sum(1 << (pos[i] + pos[j] * (pos[j] - 1) // 2) for i, j in edges)
            found.add((bits, tuple(labels[v] for v in order)))
            return
        for v in range(1, n - 1):
            if not pos[v] and all(pos[u] for u in preds[v]):
                pos[v] = len(order) + 1
                extend(order + [v])
                pos[v] = 0

    extend([])
    return found


def _cell_from_code(n: int, bits: int, labels: Sequence[int]) -> tuple[Matrix, tuple[str, ...]]:
    matrix = tuple(tuple(int(i < j and (bits >> (i + j * (j - 1) // 2)) & 1) for j in range(n)) for i in range(n))
    return matrix, ("input", *(OPS[k] for k in labels), "output")


def _canonical(matrix, ops) -> tuple[Matrix, tuple[str, ...], int]:
    """(matrix, ops) pruned and in canonical vertex order, and how many distinct vertex orders the
    cell has (its number of representations in NB-101's enumeration)."""
    m, ops = _prune(*_check_cell(matrix, ops))
    edges = sum(map(sum, m))
    if edges > MAX_EDGES:
        raise SpecError(f"NB-101 cell {ops} has {edges} edges after pruning; at most {MAX_EDGES} allowed")
    codes = _orderings(m, ops)
    return (*_cell_from_code(len(m), *min(codes)), len(codes))


def module_hashes(matrix, labellings: Iterable[Sequence[int]]) -> list[str]:
    """NB-101's module hash (``nasbench.lib.graph_util.hash_module``: 32 hex characters, invariant to
    vertex order) of the 0/1 adjacency ``matrix``, taken as given, under each labelling (per vertex:
    -1 input, -2 output, else the op's index in :data:`OPS`). The one implementation of the hash;
    degrees and labels must print as plain ints, as in the official string formats."""
    adjacency = np.asarray(matrix) != 0
    n = len(adjacency)
    in_degrees, out_degrees = adjacency.sum(0).tolist(), adjacency.sum(1).tolist()
    preds = [np.flatnonzero(adjacency[:, v]).tolist() for v in range(n)]
    succs = [np.flatnonzero(adjacency[v]).tolist() for v in range(n)]
    keys = []
    for labels in labellings:
        h = [_md5(str((out_degrees[v], in_degrees[v], int(labels[v])))) for v in range(n)]
        for _ in range(n):
            h = [_md5("".join(sorted(map(h.__getitem__, preds[v]))) + "|"
                      + "".join(sorted(map(h.__getitem__, succs[v]))) + "|" + h[v]) for v in range(n)]
        keys.append(_md5(str(sorted(h))))
    return keys


def nb101_hash(matrix: Sequence[Sequence], ops: Sequence[str]) -> str:
    """NB-101's module hash of the pruned cell (the key of NB-101's data files); ``SpecError`` if invalid."""
    m, ops = _prune(*_check_cell(matrix, ops))
    return module_hashes(m, [[INPUT_LABEL, *(OPS.index(op) for op in ops[1:-1]), OUTPUT_LABEL]])[0]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NB101Spec:
    """A pruned NB-101 cell in canonical vertex order. Constructing one from any valid cell
    (``NB101Spec(matrix, ops)`` or :meth:`from_cell`) prunes and canonicalises it."""
    matrix: Matrix
    ops: tuple[str, ...]

    def __post_init__(self):
        matrix, ops, _ = _canonical(self.matrix, self.ops)
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", ops)

    @classmethod
    def from_cell(cls, matrix: Sequence[Sequence], ops: Sequence[str]) -> "NB101Spec":
        """Prune and canonicalise a cell given as a 0/1 matrix (nested lists, tuples or an array;
        0.0/1.0 floats are accepted) and its op names including 'input' and 'output'.
        :class:`SpecError` for > 7 vertices, > 9 edges after pruning, a matrix that is not
        strictly upper-triangular, an unknown op or no input -> output path."""
        return cls(matrix, ops)

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def hash(self) -> str:
        """The NB-101 module hash (the key of NB-101's data)."""
        return nb101_hash(self.matrix, self.ops)

    def __str__(self) -> str:
        return ",".join(self.ops) + "|" + ",".join("".join(map(str, row)) for row in self.matrix)

    @classmethod
    def parse(cls, text: str) -> "NB101Spec":
        ops, sep, rows = text.strip().partition("|")
        if not sep:
            raise SpecError(f"an NB-101 spec string is '<ops>|<matrix rows>', got {text!r}")
        if any(c not in "01" for row in rows.split(",") for c in row):
            raise SpecError(f"NB-101 matrix rows must be 0/1 strings, got {rows!r}")
        return cls(tuple(tuple(int(c) for c in row) for row in rows.split(",")), tuple(ops.split(",")))


def vertex_channels(matrix: Matrix, c_in: int, c_out: int) -> list[int]:
    """Channels of each vertex of a pruned cell (NB-101's ``compute_vertex_channels``): the
    vertices feeding the output split ``c_out`` (the first ``c_out % n`` get one more); every other
    interior vertex takes the largest width among its interior successors."""
    n = len(matrix)
    channels = [0] * n
    channels[0], channels[-1] = c_in, c_out
    if n == 2:
        return channels
    to_output = [v for v in range(1, n - 1) if matrix[v][n - 1]]
    width, extra = divmod(c_out, len(to_output))
    for k, v in enumerate(to_output):
        channels[v] = width + (k < extra)
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            channels[v] = max(channels[d] for d in range(v + 1, n - 1) if matrix[v][d])
    return channels


# ------------------------------------------------------------------------------ PyTorch network
def _vertex_module(op: str, c: int) -> nn.Module:
    if op == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    return ConvBNReLU(c, c, 3 if op == "conv3x3-bn-relu" else 1)


class Cell(nn.Module):
    """An NB-101 cell. Vertex t sums its interior predecessors (truncated to its channels) and, if
    the input feeds it, its own 1x1 projection of the input; the output concatenates the vertices
    that feed it and adds a projection of the input when the input feeds it directly."""

    def __init__(self, spec: NB101Spec, c_in: int, c_out: int):
        super().__init__()
        self.matrix, n = spec.matrix, spec.num_vertices
        self.channels = vertex_channels(spec.matrix, c_in, c_out)
        self.vertex_ops = nn.ModuleList(_vertex_module(op, c) for op, c in zip(spec.ops[1:-1], self.channels[1:-1]))
        # one projection per edge from the input, keyed by the target vertex
        self.projections = nn.ModuleDict({str(t): ConvBNReLU(c_in, self.channels[t], 1)
                                          for t in range(1, n) if spec.matrix[0][t]})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, n, channels = self.matrix, len(self.matrix), self.channels
        values = [x]
        for t in range(1, n - 1):
            terms = [values[s][:, :channels[t]] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                terms.append(self.projections[str(t)](x))
            values.append(self.vertex_ops[t - 1](add_all(terms)))
        fan_in = [values[v] for v in range(1, n - 1) if m[v][n - 1]]
        if not fan_in:
            return self.projections[str(n - 1)](x)
        out = torch.cat(fan_in, dim=1) if len(fan_in) > 1 else fan_in[0]
        return out + self.projections[str(n - 1)](x) if m[0][n - 1] else out


class NB101Network(nn.Module):
    """Stem ConvBNReLU 3x3 (3 -> 128); 3 stacks of 3 cells, a 2x2 max-pool and doubled channels
    between stacks; global average pool -> Linear(512 -> 10)."""

    def __init__(self, spec: NB101Spec, stem_channels: int = 128, stacks: int = 3, cells: int = 3,
                 num_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = [ConvBNReLU(3, stem_channels, 3)]
        c = stem_channels
        for stack in range(stacks):
            if stack:
                layers.append(nn.MaxPool2d(2, stride=2))
            for cell in range(cells):
                c_out = c * 2 if stack and not cell else c
                layers.append(Cell(spec, c, c_out))
                c = c_out
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean((2, 3)))


# ------------------------------------------------------------------------------ the same, as a graph
def _cell_graph(b: GraphBuilder, spec: NB101Spec, x: Tensor, c_out: int) -> Tensor:
    m, n = spec.matrix, spec.num_vertices
    channels = vertex_channels(m, x.shape[0], c_out)
    values = [x]
    for t in range(1, n - 1):
        # truncating to the first channels[t] channels is a slice: no node, a narrower tensor
        terms = [Tensor(values[s].node, (channels[t], *values[s].shape[1:])) for s in range(1, t) if m[s][t]]
        if m[0][t]:
            terms.append(conv_bn_relu(b, x, channels[t], 1))
        v = b.add(*terms)
        op = spec.ops[t]
        values.append(b.pool(v, "maxpool", 3, 1, 1) if op == "maxpool3x3"
                      else conv_bn_relu(b, v, channels[t], 3 if op == "conv3x3-bn-relu" else 1))
    fan_in = [values[v] for v in range(1, n - 1) if m[v][n - 1]]
    if not fan_in:
        return conv_bn_relu(b, x, c_out, 1)
    out = b.concat(fan_in)
    return b.add(out, conv_bn_relu(b, x, c_out, 1)) if m[0][n - 1] else out


def network_graph(spec: NB101Spec, stem_channels: int = 128, stacks: int = 3, cells: int = 3,
                  num_classes: int = 10) -> ComputeGraph:
    """The graph of ``NB101Network(spec, ...)`` on a 3x32x32 input."""
    b = GraphBuilder(f"nb101:{spec}")
    x = conv_bn_relu(b, b.input((3, 32, 32)), stem_channels, 3)
    c = stem_channels
    for stack in range(stacks):
        if stack:
            x = b.pool(x, "maxpool", 2, 2, 0)
        for cell in range(cells):
            c_out = c * 2 if stack and not cell else c
            x = _cell_graph(b, spec, x, c_out)
            c = c_out
    b.output(b.linear(b.mean(x), num_classes))
    return b.build()


# ------------------------------------------------------------------------------ the family
class NB101Family(Family):
    """NAS-Bench-101 on CIFAR-10 (32x32 input, 10 classes)."""

    name = "nb101"
    space_size = sum(CELLS_PER_VERTEX_COUNT.values())

    def parse(self, text: str) -> NB101Spec:
        return NB101Spec.parse(text)

    def format(self, spec: NB101Spec) -> str:
        return str(spec)

    def build(self, spec: NB101Spec) -> nn.Module:
        return NB101Network(spec)

    def to_graph(self, spec: NB101Spec) -> ComputeGraph:
        return network_graph(spec)

    def input_shape(self, spec: NB101Spec) -> tuple[int, int, int]:
        return (3, 32, 32)

    def sample(self, rng: random.Random) -> NB101Spec:
        """Uniform over the 423,624 unique cells: draw the vertex count by the number of cells that
        have it, draw a full DAG of that size and its labels uniformly (rejecting invalid ones),
        and accept it with probability 1 / (its number of vertex orders), which undoes the bias
        towards cells with many representations."""
        n = rng.choices(list(CELLS_PER_VERTEX_COUNT), weights=list(CELLS_PER_VERTEX_COUNT.values()))[0]
        pairs = n * (n - 1) // 2
        while True:
            bits = rng.getrandbits(pairs)
            if bits.bit_count() > MAX_EDGES or not _is_full_dag(n, bits):
                continue
            matrix, ops = _cell_from_code(n, bits, [rng.randrange(3) for _ in range(n - 2)])
            canon_matrix, canon_ops, representations = _canonical(matrix, ops)
            if rng.random() * representations < 1:
                return NB101Spec(canon_matrix, canon_ops)

    def mutate(self, spec: NB101Spec, rng: random.Random) -> NB101Spec:
        """One of: flip one edge, change one vertex op, or insert a new vertex on an edge (without
        the last, mutation could never grow a pruned cell). Moves that give an invalid cell or an
        isomorphic one are skipped."""
        m, ops, n = [list(row) for row in spec.matrix], list(spec.ops), spec.num_vertices
        moves = [("flip", i, j) for i in range(n) for j in range(i + 1, n)]
        moves += [("op", v, op) for v in range(1, n - 1) for op in OPS if op != ops[v]]
        if n < MAX_VERTICES:
            moves += [("insert", i, j) for i in range(n) for j in range(i + 1, n) if m[i][j]]
        rng.shuffle(moves)
        for kind, a, c in moves:
            if kind == "flip":
                new_m, new_ops = [row[:] for row in m], ops
                new_m[a][c] ^= 1
            elif kind == "op":
                new_m, new_ops = m, ops[:a] + [c] + ops[a + 1:]
            else:  # a new vertex just after a, so that a -> new -> c keeps the order upper-triangular
                new_ops = ops[:a + 1] + [rng.choice(OPS)] + ops[a + 1:]
                new_m = [row[:a + 1] + [0] + row[a + 1:] for row in m]
                new_m.insert(a + 1, [0] * (n + 1))
                new_m[a][c + 1], new_m[a][a + 1], new_m[a + 1][c + 1] = 0, 1, 1
            try:
                child = NB101Spec(new_m, new_ops)
            except SpecError:
                continue
            if child != spec:
                return child
        raise SpecError(f"no valid mutation of NB-101 cell {spec}")


@functools.cache
def _edge_masks(n: int) -> tuple[list[int], list[int]]:
    """Per vertex, the edge bits (see :func:`_orderings`) of its out-edges and of its in-edges."""
    out, into = [0] * n, [0] * n
    for j in range(1, n):
        for i in range(j):
            bit = 1 << (i + j * (j - 1) // 2)
            out[i] |= bit
            into[j] |= bit
    return out, into


def _is_full_dag(n: int, bits: int) -> bool:
    """Every vertex but the output has an out-edge and every vertex but the input an in-edge."""
    out, into = _edge_masks(n)
    return all(bits & out[v] for v in range(n - 1)) and all(bits & into[v] for v in range(1, n))


register(NB101Family())
