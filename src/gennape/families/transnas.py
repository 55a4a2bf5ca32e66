"""TransNAS-Bench-101 (Duan et al., CVPR 2021) encoders with a classification head, 256x256 input.

Both spaces share a stem (conv 3x3 s2 to 32, BN, then ReLU-conv 3x3 s2 to 64-BN) and stack modules
of two cells; a module's code says whether its first cell doubles the width (2, 4) and/or halves
the resolution (3, 4); code 1 changes neither.

* ``transnas_macro``: 4-6 modules of ResNet basic blocks, spec string ``"64-1234-basic"``;
  3,256 architectures.
* ``transnas_micro``: the fixed modules ``41414`` of a 4-node cell whose 6 edges are
  0 none / 1 skip / 2 ReLU-conv1x1-BN / 3 ReLU-conv3x3-BN, spec string ``"64-41414-1_02_333"``;
  4,096 cells.

The head is global average pooling and ``Linear(C_final, n_out)`` with n_out set by the family's
``task`` (class_object 100, class_scene 63, room_layout 9), as NASLib's parameter counts imply.
"""

from __future__ import annotations

import itertools
import random
from abc import abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import Iterator

from ..errors import SpecError
from . import gennape_blocks as gb
from .base import Family, register
from .gennape_blocks import (
    BN,
    Act,
    Conv,
    Dag,
    GlobalPool,
    Linear,
    Node,
    ShiftPad,
    ZeroOp,
)

TASK_OUTPUTS = {"class_object": 100, "class_scene": 63, "room_layout": 9}
BASE_WIDTH = 64
MICRO_MODULES = (4, 1, 4, 1, 4)


@dataclass(frozen=True)
class MacroSpec:
    codes: tuple[int, ...]  # module codes 1-4

    def __post_init__(self):
        downs = sum(c in (3, 4) for c in self.codes)
        widens = sum(c in (2, 4) for c in self.codes)
        if (not 4 <= len(self.codes) <= 6 or any(c not in (1, 2, 3, 4) for c in self.codes)
                or not 1 <= downs <= 4 or not 1 <= widens <= 3):
            raise SpecError(f"invalid TransNAS macro codes {self.codes}: need 4-6 codes in 1-4 with 1-4 "
                            "resolution halvings (3, 4) and 1-3 width doublings (2, 4)")


@dataclass(frozen=True)
class MicroSpec:
    edges: tuple[int, int, int, int, int, int]  # ops of edges 0->1, 0->2, 1->2, 0->3, 1->3, 2->3

    def __post_init__(self):
        if len(self.edges) != 6 or any(op not in (0, 1, 2, 3) for op in self.edges):
            raise SpecError(f"a TransNAS micro cell needs 6 edge ops in 0-3, got {self.edges}")


# -------------------------------------------------------------------- network
def relu_conv_bn(c_out: int, kernel: int, stride: int = 1) -> tuple:
    return (Act("relu"), Conv(c_out, kernel, stride), BN())


def basic_block(c_in: int, c_out: int, stride: int) -> Dag:
    shortcut = gb.conv_bn(c_out, 1, stride) if stride != 1 or c_in != c_out else ()
    main = relu_conv_bn(c_out, 3, stride) + relu_conv_bn(c_out, 3)
    return Dag((Node("shortcut", ("in",), shortcut), Node("main", ("in",), main),
                Node("out", ("shortcut", "main"))))


def factorized_reduce(c_out: int, stride: int) -> tuple:
    half = c_out // 2
    return (Dag((Node("relu", ("in",), (Act("relu"),)), Node("a", ("relu",), (Conv(half, 1, stride),)),
                 Node("shifted", ("relu",), (ShiftPad(), Conv(c_out - half, 1, stride))),
                 Node("out", ("a", "shifted"), (BN(),), merge="concat"))),)


def edge_layers(op: int, c_in: int, c_out: int, stride: int) -> tuple:
    if op == 0:
        return (ZeroOp(c_out, stride),)
    if op == 1:
        return () if stride == 1 and c_in == c_out else factorized_reduce(c_out, stride)
    return relu_conv_bn(c_out, 1 if op == 2 else 3, stride)


def micro_cell(spec: MicroSpec, c_in: int, c_out: int, stride: int) -> Dag:
    """Node j sums op_ij(node i) over i < j (left fold in i order); edges leaving the input carry the
    stride and width change."""
    nodes, e = [], 0
    for j in (1, 2, 3):
        sources = []
        for i in range(j):
            src = "in" if i == 0 else f"node{i}"
            name = f"edge{i}{j}"
            layers = edge_layers(spec.edges[e], c_in, c_out, stride) if i == 0 else \
                edge_layers(spec.edges[e], c_out, c_out, 1)
            nodes.append(Node(name, (src,), layers))
            sources.append(name)
            e += 1
        nodes.append(Node(f"node{j}", tuple(sources)))
    return Dag(tuple(nodes))


def _stem() -> tuple:
    return (*gb.conv_bn(BASE_WIDTH // 2, 3, 2), *relu_conv_bn(BASE_WIDTH, 3, 2))


def _modules(codes, cell) -> tuple:
    out, c = [], BASE_WIDTH
    for code in codes:
        c_out, stride = c * (2 if code in (2, 4) else 1), 2 if code in (3, 4) else 1
        out += [cell(c, c_out, stride), cell(c_out, c_out, 1)]
        c = c_out
    return tuple(out), c


class _TransNAS(Family):
    """Shared parts of the two spaces; ``task`` sets the head's number of outputs."""

    def __init__(self, task: str = "class_object"):
        if task not in TASK_OUTPUTS:
            raise SpecError(f"unknown TransNAS task {task!r}; known: {', '.join(TASK_OUTPUTS)}")
        self.task = task

    @abstractmethod
    def layers(self, spec) -> tuple:
        """The network as :mod:`gennape_blocks` layers."""

    def build(self, spec):
        return gb.module(self.layers(spec), 3)

    def to_graph(self, spec):
        return gb.graph(self.layers(spec), self.input_shape(spec), self.format(spec))

    def input_shape(self, spec) -> tuple[int, int, int]:
        return (3, 256, 256)

    def _head(self) -> tuple:
        return (GlobalPool(), Linear(TASK_OUTPUTS[self.task]))


class TransNASMacro(_TransNAS):
    name = "transnas_macro"
    space_size = 3256

    def parse(self, text: str) -> MacroSpec:
        parts = text.strip().split("-")
        if len(parts) != 3 or parts[0] != str(BASE_WIDTH) or parts[2] != "basic" or not parts[1].isdigit():
            raise SpecError(f"TransNAS macro spec must look like '64-1234-basic', got {text!r}")
        return MacroSpec(tuple(int(ch) for ch in parts[1]))

    def format(self, spec: MacroSpec) -> str:
        return f"{BASE_WIDTH}-{''.join(map(str, spec.codes))}-basic"

    def layers(self, spec: MacroSpec) -> tuple:
        modules, _ = _modules(spec.codes, basic_block)
        return (*_stem(), *modules, *self._head())

    def sample(self, rng: random.Random) -> MacroSpec:
        """Uniform over the 3,256 architectures."""
        return rng.choice(_macro_specs())

    def mutate(self, spec: MacroSpec, rng: random.Random) -> MacroSpec:
        while True:
            codes = list(spec.codes)
            i = rng.randrange(len(codes) + 1)
            move = rng.choice(("change", "insert", "delete"))
            if move == "insert":
                codes.insert(i, rng.randint(1, 4))
            elif i < len(codes):
                if move == "delete":
                    codes.pop(i)
                else:
                    codes[i] = rng.choice([c for c in (1, 2, 3, 4) if c != codes[i]])
            try:
                new = MacroSpec(tuple(codes))
            except SpecError:
                continue
            if new != spec:
                return new

    def enumerate(self) -> Iterator[MacroSpec]:
        return iter(_macro_specs())


@cache
def _macro_specs() -> tuple[MacroSpec, ...]:
    specs = []
    for n in (4, 5, 6):
        for codes in itertools.product((1, 2, 3, 4), repeat=n):
            try:
                specs.append(MacroSpec(codes))
            except SpecError:
                pass
    return tuple(specs)


class TransNASMicro(_TransNAS):
    name = "transnas_micro"
    space_size = 4 ** 6

    def parse(self, text: str) -> MicroSpec:
        parts = text.strip().split("-")
        cell = parts[2].split("_") if len(parts) == 3 else []
        if parts[:2] != [str(BASE_WIDTH), "41414"] or [len(p) for p in cell] != [1, 2, 3]:
            raise SpecError(f"TransNAS micro spec must look like '64-41414-1_02_333', got {text!r}")
        return MicroSpec(tuple(int(ch) for ch in "".join(cell)))

    def format(self, spec: MicroSpec) -> str:
        e = "".join(map(str, spec.edges))
        return f"{BASE_WIDTH}-41414-{e[0]}_{e[1:3]}_{e[3:]}"

    def layers(self, spec: MicroSpec) -> tuple:
        modules, _ = _modules(MICRO_MODULES, lambda c_in, c_out, s: micro_cell(spec, c_in, c_out, s))
        return (*_stem(), *modules, *self._head())

    def sample(self, rng: random.Random) -> MicroSpec:
        return MicroSpec(tuple(rng.randrange(4) for _ in range(6)))

    def mutate(self, spec: MicroSpec, rng: random.Random) -> MicroSpec:
        edges = list(spec.edges)
        i = rng.randrange(6)
        edges[i] = rng.choice([op for op in range(4) if op != edges[i]])
        return MicroSpec(tuple(edges))

    def enumerate(self) -> Iterator[MicroSpec]:
        return (MicroSpec(e) for e in itertools.product(range(4), repeat=6))


register(TransNASMacro())
register(TransNASMicro())
