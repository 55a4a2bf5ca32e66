"""NAS-Bench-Macro (Su et al., CVPR 2021): 8 MobileNetV2-style layers on CIFAR-10.

Spec string: 8 characters over ``0`` = identity, ``1`` = inverted residual k3 expansion 3,
``2`` = inverted residual k5 expansion 6; stages of [2, 3, 3] layers whose first layer has stride 2
and doubles the width. An identity after a stage's first layer is a no-op, so specs are canonical:
within a stage the later identities move to its end (as the benchmark does), and keys that name
the same network give equal specs. 6,561 keys, 3,969 distinct networks.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import cache
from typing import Iterator

from ..errors import SpecError
from . import gennape_blocks as gb
from .base import Family, register
from .gennape_blocks import BN, Act, Conv, GlobalPool, Linear

STAGES = (2, 3, 3)
STAGE_WIDTHS = (64, 128, 256)
C_STEM = 32
OPS = {1: (3, 3), 2: (5, 6)}  # code -> (kernel, expansion); 0 is identity
N_CLASSES = 10


def canonical(layers: tuple[int, ...]) -> tuple[int, ...]:
    """Within each stage, move the identities that follow the first layer to the stage's end."""
    out, start = [], 0
    for n in STAGES:
        first, rest = layers[start], layers[start + 1:start + n]
        out += [first, *[op for op in rest if op], *[0 for op in rest if not op]]
        start += n
    return tuple(out)


@dataclass(frozen=True)
class MacroSpec:
    layers: tuple[int, ...]  # canonical, one code per layer

    def __post_init__(self):
        if len(self.layers) != sum(STAGES) or any(op not in (0, 1, 2) for op in self.layers):
            raise SpecError(f"NAS-Bench-Macro needs {sum(STAGES)} layer codes in 0-2, got {self.layers}")
        object.__setattr__(self, "layers", canonical(tuple(self.layers)))


def inverted_residual(c_in: int, c_out: int, stride: int, kernel: int, expansion: int) -> gb.Dag:
    hidden = round(c_in * expansion)
    body = (*gb.conv_bn_act(hidden, 1, act="relu"), Conv(hidden, kernel, stride, depthwise=True), BN(),
            Act("relu"), *gb.conv_bn(c_out, 1))
    return gb.residual(body, use=stride == 1 and c_in == c_out)


def layers(spec: MacroSpec) -> tuple:
    out, c, codes = [*gb.conv_bn_act(C_STEM, 3, act="relu")], C_STEM, iter(spec.layers)
    for n, width in zip(STAGES, STAGE_WIDTHS):
        for i in range(n):
            code, stride = next(codes), 2 if i == 0 else 1
            if code:
                out.append(inverted_residual(c, width, stride, *OPS[code]))
            elif i == 0:  # a reducing identity is a projection
                out += gb.conv_bn(width, 1, stride)
            c = width
    return (*out, *gb.conv_bn_act(1280, 1, act="relu"), GlobalPool(), Linear(N_CLASSES))


@cache
def _all_specs() -> tuple[MacroSpec, ...]:
    return tuple(dict.fromkeys(MacroSpec(k) for k in itertools.product((0, 1, 2), repeat=sum(STAGES))))


class NASBenchMacro(Family):
    name = "nas_bench_macro"
    space_size = 3969

    def parse(self, text: str) -> MacroSpec:
        text = text.strip()
        if not text.isdigit():
            raise SpecError(f"NAS-Bench-Macro spec must be {sum(STAGES)} digits 0-2, got {text!r}")
        return MacroSpec(tuple(int(ch) for ch in text))

    def format(self, spec: MacroSpec) -> str:
        return "".join(map(str, spec.layers))

    def build(self, spec: MacroSpec):
        return gb.module(layers(spec), 3)

    def to_graph(self, spec: MacroSpec):
        return gb.graph(layers(spec), self.input_shape(spec), self.format(spec))

    def sample(self, rng: random.Random) -> MacroSpec:
        """Uniform over the 3,969 distinct networks."""
        return rng.choice(_all_specs())

    def mutate(self, spec: MacroSpec, rng: random.Random) -> MacroSpec:
        while True:
            codes = list(spec.layers)
            i = rng.randrange(len(codes))
            codes[i] = rng.choice([op for op in (0, 1, 2) if op != codes[i]])
            new = MacroSpec(tuple(codes))
            if new != spec:
                return new

    def input_shape(self, spec: MacroSpec) -> tuple[int, int, int]:
        return (3, 32, 32)

    def enumerate(self) -> Iterator[MacroSpec]:
        """The 3,969 distinct networks, each once."""
        return iter(_all_specs())


register(NASBenchMacro())
