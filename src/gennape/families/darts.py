"""The DARTS cell space (NAS-Bench-301): a normal and a reduction cell, each 4 nodes that sum two
ops applied to two distinct earlier states, stacked into the DARTS CIFAR network.

The registered ``darts`` family is NB-301's training network: C = 32 channels, 8 cells (reductions at
cells 2 and 5), no auxiliary head, and NASLib's convention that the BNs inside candidate ops are not
affine (the stem and preprocessing BNs are), so its parameter counts are NB-301's. GENNAPE's size is
``DartsFamily(channels=16, cells=20)`` (GENNAPE's TensorFlow stem and head variants are not copied).

Spec string: DARTS' genotype repr, ``Genotype(normal=[('sep_conv_3x3', 0), ...],
normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])``.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import SpecError
from ..graph import ComputeGraph, GraphBuilder, Tensor
from .base import Family, register
from .layers import ReLUConvBN, relu_conv_bn

#: NB-301's op list, in NASLib's index order
OPS = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3",
       "dil_conv_5x5")
NODES = 4
CONCAT = (2, 3, 4, 5)

Pairs = tuple[tuple[str, int], ...]


def _canonical_cell(pairs, which: str) -> Pairs:
    """The 8 (op, input) pairs with each node's two pairs sorted by input; SpecError if invalid."""
    try:
        pairs = tuple((str(op), int(i)) for op, i in pairs)
    except (TypeError, ValueError):
        raise SpecError(f"the {which} cell must be 8 (op, input) pairs, got {pairs!r}") from None
    if len(pairs) != 2 * NODES:
        raise SpecError(f"the {which} cell must have {2 * NODES} (op, input) pairs, got {len(pairs)}")
    out = []
    for node in range(NODES):
        a, b = sorted(pairs[2 * node:2 * node + 2], key=lambda p: (p[1], p[0]))
        for op, i in (a, b):
            if op not in OPS:
                raise SpecError(f"unknown DARTS op {op!r} in the {which} cell; known: {', '.join(OPS)}")
            if not 0 <= i < node + 2:
                raise SpecError(f"node {node + 2} of the {which} cell reads state {i}; it may read 0..{node + 1}")
        if a[1] == b[1]:
            raise SpecError(f"node {node + 2} of the {which} cell reads state {a[1]} twice; inputs must differ")
        out += [a, b]
    return tuple(out)


@dataclass(frozen=True)
class DartsSpec:
    """A DARTS genotype with concat [2, 3, 4, 5] in both cells. ``normal`` and ``reduce`` are 8
    (op, input) pairs, two per node; each node's pair is stored sorted by input, so genotypes that
    list a node's two inputs in either order are equal."""
    normal: Pairs
    reduce: Pairs

    def __post_init__(self):
        object.__setattr__(self, "normal", _canonical_cell(self.normal, "normal"))
        object.__setattr__(self, "reduce", _canonical_cell(self.reduce, "reduce"))

    def __str__(self) -> str:
        concat = list(CONCAT)
        return (f"Genotype(normal={list(self.normal)}, normal_concat={concat}, "
                f"reduce={list(self.reduce)}, reduce_concat={concat})")

    @classmethod
    def parse(cls, text: str) -> "DartsSpec":
        match = re.fullmatch(r"\s*Genotype\(\s*normal=(\[.*?\]),\s*normal_concat=(\[.*?\]),\s*"
                             r"reduce=(\[.*?\]),\s*reduce_concat=(\[.*?\])\s*\)\s*", text, re.S)
        if not match:
            raise SpecError(f"not a DARTS genotype string: {text!r}")
        try:
            normal, normal_concat, reduce, reduce_concat = map(ast.literal_eval, match.groups())
        except (ValueError, SyntaxError):
            raise SpecError(f"malformed DARTS genotype: {text!r}") from None
        if list(normal_concat) != list(CONCAT) or list(reduce_concat) != list(CONCAT):
            raise SpecError(f"only concat {list(CONCAT)} is supported, got {normal_concat} and {reduce_concat}")
        return cls(normal, reduce)


# ------------------------------------------------------------------------------ PyTorch network
class SepConv(nn.Sequential):
    """Two ReLU -> depthwise k x k -> pointwise 1x1 -> BN pairs; only the first carries the stride."""

    def __init__(self, c: int, kernel: int, stride: int, affine: bool):
        pad = kernel // 2
        super().__init__(nn.ReLU(), nn.Conv2d(c, c, kernel, stride, pad, groups=c, bias=False),
                         nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine),
                         nn.ReLU(), nn.Conv2d(c, c, kernel, 1, pad, groups=c, bias=False),
                         nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine))


class DilConv(nn.Sequential):
    """ReLU -> depthwise k x k with dilation 2 -> pointwise 1x1 -> BN."""

    def __init__(self, c: int, kernel: int, stride: int, affine: bool):
        super().__init__(nn.ReLU(), nn.Conv2d(c, c, kernel, stride, kernel - 1, dilation=2, groups=c, bias=False),
                         nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine))


class FactorizedReduce(nn.Module):
    """ReLU, then two 1x1 stride-2 convs (the second on the input shifted by one pixel), each
    giving half the channels, concatenated -> BN. Halves the resolution."""

    def __init__(self, c_in: int, c_out: int, affine: bool):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def _op_module(op: str, c: int, stride: int) -> nn.Module:
    if op == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine=False)
    if op.endswith("pool_3x3"):
        if op == "max_pool_3x3":
            return nn.MaxPool2d(3, stride, padding=1)
        return nn.AvgPool2d(3, stride, padding=1, count_include_pad=False)
    kernel = int(op[-1])
    return (SepConv if op.startswith("sep") else DilConv)(c, kernel, stride, affine=False)


class Cell(nn.Module):
    """Preprocess both inputs to ``c`` channels; node i = op_a(state a) + op_b(state b); output the
    concat of nodes 2..5. In a reduction cell the ops reading the cell inputs have stride 2."""

    def __init__(self, pairs: Pairs, c_prev_prev: int, c_prev: int, c: int, reduction: bool,
                 reduction_prev: bool):
        super().__init__()
        self.preprocess0 = (FactorizedReduce(c_prev_prev, c, affine=True) if reduction_prev
                            else ReLUConvBN(c_prev_prev, c, 1))
        self.preprocess1 = ReLUConvBN(c_prev, c, 1)
        self.inputs = [i for _, i in pairs]
        self.ops = nn.ModuleList(_op_module(op, c, 2 if reduction and i < 2 else 1) for op, i in pairs)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(NODES):
            a, b = 2 * node, 2 * node + 1
            states.append(self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]]))
        return torch.cat(states[2:], dim=1)


def _reduction_cells(cells: int) -> tuple[int, int]:
    return cells // 3, 2 * cells // 3


class DartsNetwork(nn.Module):
    """Stem Conv 3x3 (3 -> 3C) -> BN; ``cells`` cells, the width doubling at the reduction cells
    (cells//3 and 2*cells//3); global average pool -> Linear."""

    def __init__(self, spec: DartsSpec, channels: int = 32, cells: int = 8, num_classes: int = 10):
        super().__init__()
        c_stem = 3 * channels
        self.stem = nn.Sequential(nn.Conv2d(3, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem))
        c_prev_prev, c_prev, c = c_stem, c_stem, channels
        reduction_prev = False
        self.cells = nn.ModuleList()
        for k in range(cells):
            reduction = k in _reduction_cells(cells)
            c = c * 2 if reduction else c
            self.cells.append(Cell(spec.reduce if reduction else spec.normal, c_prev_prev, c_prev, c,
                                   reduction, reduction_prev))
            c_prev_prev, c_prev, reduction_prev = c_prev, len(CONCAT) * c, reduction
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1.mean((2, 3)))


# ------------------------------------------------------------------------------ the same, as a graph
def _sep_conv_graph(b: GraphBuilder, x: Tensor, kernel: int, stride: int) -> Tensor:
    c = x.shape[0]
    for s in (stride, 1):
        x = b.bn(b.conv(b.conv(b.relu(x), c, kernel, s, groups=c), c, 1), affine=False)
    return x


def _dil_conv_graph(b: GraphBuilder, x: Tensor, kernel: int, stride: int) -> Tensor:
    c = x.shape[0]
    return b.bn(b.conv(b.conv(b.relu(x), c, kernel, stride, kernel - 1, dilation=2, groups=c), c, 1), affine=False)


def _factorized_reduce_graph(b: GraphBuilder, x: Tensor, c_out: int, affine: bool) -> Tensor:
    x = b.relu(x)
    c, h, w = x.shape
    shifted = Tensor(x.node, (c, h - 1, w - 1))  # x[:, :, 1:, 1:] is a slice: no node
    halves = [b.conv(x, c_out // 2, 1, 2, 0), b.conv(shifted, c_out - c_out // 2, 1, 2, 0)]
    return b.bn(b.concat(halves), affine)


def _op_graph(b: GraphBuilder, op: str, x: Tensor, stride: int) -> Tensor:
    if op == "skip_connect":
        return x if stride == 1 else _factorized_reduce_graph(b, x, x.shape[0], affine=False)
    if op == "max_pool_3x3":
        return b.pool(x, "maxpool", 3, stride, 1)
    if op == "avg_pool_3x3":
        return b.pool(x, "avgpool", 3, stride, 1)
    kernel = int(op[-1])
    return (_sep_conv_graph if op.startswith("sep") else _dil_conv_graph)(b, x, kernel, stride)


def _cell_graph(b: GraphBuilder, pairs: Pairs, s0: Tensor, s1: Tensor, c: int, reduction: bool,
                reduction_prev: bool) -> Tensor:
    states = [_factorized_reduce_graph(b, s0, c, affine=True) if reduction_prev else relu_conv_bn(b, s0, c, 1),
              relu_conv_bn(b, s1, c, 1)]
    for node in range(NODES):
        (op_a, a), (op_b, bb) = pairs[2 * node:2 * node + 2]
        states.append(b.add(_op_graph(b, op_a, states[a], 2 if reduction and a < 2 else 1),
                            _op_graph(b, op_b, states[bb], 2 if reduction and bb < 2 else 1)))
    return b.concat(states[2:])


def network_graph(spec: DartsSpec, channels: int = 32, cells: int = 8, num_classes: int = 10) -> ComputeGraph:
    """The graph of ``DartsNetwork(spec, channels, cells, num_classes)`` on a 3x32x32 input."""
    b = GraphBuilder(f"darts:{spec}")
    s0 = s1 = b.bn(b.conv(b.input((3, 32, 32)), 3 * channels, 3))
    c, reduction_prev = channels, False
    for k in range(cells):
        reduction = k in _reduction_cells(cells)
        c = c * 2 if reduction else c
        s0, s1 = s1, _cell_graph(b, spec.reduce if reduction else spec.normal, s0, s1, c, reduction,
                                 reduction_prev)
        reduction_prev = reduction
    b.output(b.linear(b.mean(s1), num_classes))
    return b.build()


# ------------------------------------------------------------------------------ the family
class DartsFamily(Family):
    """DARTS genotypes. The registered ``darts`` is NB-301's network (C = 32, 8 cells);
    ``DartsFamily(channels=16, cells=20)`` is the size of GENNAPE's DARTS graphs."""

    name = "darts"
    space_size = (180 * len(OPS) ** 8) ** 2  # 180 input topologies per cell

    def __init__(self, channels: int = 32, cells: int = 8, num_classes: int = 10):
        self.channels, self.cells, self.num_classes = channels, cells, num_classes

    def parse(self, text: str) -> DartsSpec:
        return DartsSpec.parse(text)

    def format(self, spec: DartsSpec) -> str:
        return str(spec)

    def build(self, spec: DartsSpec) -> nn.Module:
        return DartsNetwork(spec, self.channels, self.cells, self.num_classes)

    def to_graph(self, spec: DartsSpec) -> ComputeGraph:
        return network_graph(spec, self.channels, self.cells, self.num_classes)

    def input_shape(self, spec: DartsSpec) -> tuple[int, int, int]:
        return (3, 32, 32)

    def sample(self, rng: random.Random) -> DartsSpec:
        """Uniform over NB-301's space: per cell and node, a uniform pair of distinct inputs and a
        uniform op for each."""
        def cell() -> list[tuple[str, int]]:
            return [(rng.choice(OPS), i) for node in range(NODES) for i in rng.sample(range(node + 2), 2)]
        return DartsSpec(cell(), cell())

    def mutate(self, spec: DartsSpec, rng: random.Random) -> DartsSpec:
        """In the normal or the reduction cell: change one op, or move one input of a node (3-5)
        to another earlier state."""
        which = rng.choice(("normal", "reduce"))
        pairs = [list(p) for p in getattr(spec, which)]
        if rng.random() < 0.5:
            k = rng.randrange(len(pairs))
            pairs[k][0] = rng.choice([op for op in OPS if op != pairs[k][0]])
        else:
            node = rng.randrange(1, NODES)  # node 2 must read both cell inputs
            k = 2 * node + rng.randrange(2)
            taken = {pairs[2 * node][1], pairs[2 * node + 1][1]}
            pairs[k][1] = rng.choice([i for i in range(node + 2) if i not in taken])
        cells = {"normal": spec.normal, "reduce": spec.reduce, which: pairs}
        return DartsSpec(cells["normal"], cells["reduce"])


register(DartsFamily())
