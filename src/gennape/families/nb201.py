"""NAS-Bench-201 (the NATS-Bench topology space): a 4-node cell whose 6 edges each carry one of 5 ops,
in the reference TinyNetwork (C = 16, N = 5 cells per stage, ResNet-style reductions).

Spec string: the standard arch string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``, i.e. the edges
(0->1) | (0->2), (1->2) | (0->3), (1->3), (2->3).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn

from ..errors import SpecError
from ..graph import ComputeGraph, GraphBuilder, Tensor
from ..graph.modules import Zero
from .base import Family, register
from .layers import ReLUConvBN, add_all, relu_conv_bn

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (source, target) of each edge, in arch-string order
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))


@dataclass(frozen=True)
class NB201Spec:
    """The op of each cell edge, in the order of :data:`EDGES`."""
    ops: tuple[str, ...]

    def __post_init__(self):
        object.__setattr__(self, "ops", tuple(self.ops))
        if len(self.ops) != len(EDGES):
            raise SpecError(f"an NB-201 cell has {len(EDGES)} edge ops, got {len(self.ops)}: {self.ops}")
        bad = [op for op in self.ops if op not in OPS]
        if bad:
            raise SpecError(f"unknown NB-201 op(s) {bad}; known: {', '.join(OPS)}")

    def __str__(self) -> str:
        nodes = []
        for target in (1, 2, 3):
            nodes.append("|" + "|".join(f"{op}~{s}" for op, (s, t) in zip(self.ops, EDGES) if t == target) + "|")
        return "+".join(nodes)

    @classmethod
    def parse(cls, text: str) -> "NB201Spec":
        ops = []
        nodes = text.strip().split("+")
        if len(nodes) != 3:
            raise SpecError(f"an NB-201 arch string has 3 '+'-separated nodes: {text!r}")
        for target, node in enumerate(nodes, start=1):
            terms = node.strip("|").split("|")
            if len(terms) != target or not node.startswith("|") or not node.endswith("|"):
                raise SpecError(f"node {target} of {text!r} must list {target} '|op~source|' terms")
            for source, term in enumerate(terms):
                op, _, src = term.partition("~")
                if src != str(source):
                    raise SpecError(f"term {term!r} of {text!r} must read from node {source}")
                ops.append(op)
        return cls(tuple(ops))


# ------------------------------------------------------------------------------ PyTorch network
def _edge_module(op: str, c: int) -> nn.Module:
    if op == "none":
        return Zero(c)
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3)
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


class Cell(nn.Module):
    """Node j = sum over i < j of edge_ij(node i); the output is node 3."""

    def __init__(self, spec: NB201Spec, c: int):
        super().__init__()
        self.edges = nn.ModuleList(_edge_module(op, c) for op in spec.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            nodes.append(add_all([edge(nodes[s]) for edge, (s, t) in zip(self.edges, EDGES) if t == target]))
        return nodes[3]


class ResidualReduction(nn.Module):
    """ResNet basic block with stride 2: ReLUConvBN 3x3 s2 -> ReLUConvBN 3x3, plus a shortcut
    AvgPool 2x2 s2 -> Conv 1x1 (no BN); no activation after the sum."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    """Stem Conv 3x3 -> BN; 3 stages of ``cells`` cells at C, 2C, 4C channels with a residual
    reduction between stages; BN -> ReLU -> global average pool -> Linear."""

    def __init__(self, spec: NB201Spec, channels: int = 16, cells: int = 5, num_classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        for stage in range(3):
            c = channels * 2 ** stage
            if stage:
                layers.append(ResidualReduction(c // 2, c))
            layers.extend(Cell(spec, c) for _ in range(cells))
        self.cells = nn.Sequential(*layers)
        c_last = channels * 4
        self.head = nn.Sequential(nn.BatchNorm2d(c_last), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c_last, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.cells(self.stem(x))))


# ------------------------------------------------------------------------------ the same, as a graph
def _edge_graph(b: GraphBuilder, op: str, x: Tensor) -> Tensor:
    if op == "none":
        return b.zero(x)
    if op == "skip_connect":
        return x
    if op == "nor_conv_1x1":
        return relu_conv_bn(b, x, x.shape[0], 1)
    if op == "nor_conv_3x3":
        return relu_conv_bn(b, x, x.shape[0], 3)
    return b.pool(x, "avgpool", 3, 1, 1)


def _cell_graph(b: GraphBuilder, spec: NB201Spec, x: Tensor) -> Tensor:
    nodes = [x]
    for target in (1, 2, 3):
        nodes.append(b.add(*[_edge_graph(b, op, nodes[s]) for op, (s, t) in zip(spec.ops, EDGES) if t == target]))
    return nodes[3]


def _reduction_graph(b: GraphBuilder, x: Tensor, c_out: int) -> Tensor:
    shortcut = b.conv(b.pool(x, "avgpool", 2, 2, 0), c_out, 1)
    main = relu_conv_bn(b, relu_conv_bn(b, x, c_out, 3, 2), c_out, 3)
    return b.add(shortcut, main)


def network_graph(spec: NB201Spec, channels: int = 16, cells: int = 5, num_classes: int = 10,
                  resolution: int = 32) -> ComputeGraph:
    """The graph of ``TinyNetwork(spec, channels, cells, num_classes)`` at a square input."""
    b = GraphBuilder(f"nb201:{spec}")
    x = b.bn(b.conv(b.input((3, resolution, resolution)), channels, 3))
    for stage in range(3):
        c = channels * 2 ** stage
        if stage:
            x = _reduction_graph(b, x, c)
        for _ in range(cells):
            x = _cell_graph(b, spec, x)
    x = b.mean(b.relu(b.bn(x)))
    b.output(b.linear(x, num_classes))
    return b.build()


# ------------------------------------------------------------------------------ the family
class NB201Family(Family):
    """NAS-Bench-201. The registered ``nb201`` is the CIFAR-10 network (10 classes, 32x32 input);
    ``NB201Family(num_classes=100)`` is CIFAR-100 and ``NB201Family(120, resolution=16)`` is
    ImageNet16-120."""

    name = "nb201"
    space_size = len(OPS) ** len(EDGES)

    def __init__(self, num_classes: int = 10, resolution: int = 32):
        self.num_classes, self.resolution = num_classes, resolution

    def parse(self, text: str) -> NB201Spec:
        return NB201Spec.parse(text)

    def format(self, spec: NB201Spec) -> str:
        return str(spec)

    def build(self, spec: NB201Spec) -> nn.Module:
        return TinyNetwork(spec, num_classes=self.num_classes)

    def to_graph(self, spec: NB201Spec) -> ComputeGraph:
        return network_graph(spec, num_classes=self.num_classes, resolution=self.resolution)

    def input_shape(self, spec: NB201Spec) -> tuple[int, int, int]:
        return (3, self.resolution, self.resolution)

    def sample(self, rng: random.Random) -> NB201Spec:
        return NB201Spec(tuple(rng.choice(OPS) for _ in EDGES))

    def mutate(self, spec: NB201Spec, rng: random.Random) -> NB201Spec:
        """Change one edge's op to a different op."""
        ops = list(spec.ops)
        i = rng.randrange(len(ops))
        ops[i] = rng.choice([op for op in OPS if op != ops[i]])
        return NB201Spec(tuple(ops))

    def enumerate(self) -> Iterator[NB201Spec]:
        for ops in itertools.product(OPS, repeat=len(EDGES)):
            yield NB201Spec(ops)


register(NB201Family())
