"""Accel-NASBench: the MnasNet / EfficientNet-B0 block space of Accel-NASBench
(https://github.com/afzalxo/Accel-NASBench).

Seven MBConv blocks on EfficientNet-B0's channel plan, each with an expand ratio e in {1, 4, 6}, a
kernel k in {3, 5}, a layer count l (1..3; 1..4 for block 5) and a squeeze-excite flag. Swish (SiLU)
activations and a sigmoid SE gate, as the benchmark's model file builds for its "gpu" platform.

The input is 224 x 224: the benchmark's ``model_info.macs`` is counted at 224 (training used
progressive 160 -> 192 px and validation 256 px, so no single size is "the" training size) and 224 is
EfficientNet-B0's native size. Canonical string, one ``e<e>k<k>l<l>s<0|1>`` token per block::

    e1k3l1s0_e6k3l2s1_e6k5l2s1_e6k3l3s0_e6k5l3s1_e6k5l4s1_e6k3l1s0
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import SpecError
from .base import register
from .mobile_blocks import (
    Classifier,
    ConvBNAct,
    GlobalAvgPool,
    Layer,
    MBConv,
    PlanFamily,
    SqueezeExcite,
    make_divisible,
)

EXPANDS = (1, 4, 6)
KERNELS = (3, 5)
#: (input channels, output channels, stride of the first layer, allowed layer counts) per block
BLOCK_PLAN = ((32, 16, 1, (1, 2, 3)), (16, 24, 2, (1, 2, 3)), (24, 40, 2, (1, 2, 3)), (40, 80, 2, (1, 2, 3)),
              (80, 112, 1, (1, 2, 3)), (112, 192, 2, (1, 2, 3, 4)), (192, 320, 1, (1, 2, 3)))
STEM, HEAD = 32, 1280
RESOLUTION = 224
ACT = "swish"
_TOKEN = re.compile(r"e(\d+)k(\d+)l(\d+)s([01])")


class AccelBlock(NamedTuple):
    expand: int
    kernel: int
    layers: int
    se: bool


@dataclass(frozen=True)
class AccelSpec:
    blocks: tuple[AccelBlock, ...]

    def __post_init__(self):
        try:
            given = [tuple(block) for block in self.blocks]
        except TypeError:
            given = []
        if len(given) != len(BLOCK_PLAN) or any(len(block) != 4 for block in given):
            raise SpecError(f"Accel-NASBench: expected {len(BLOCK_PLAN)} (expand, kernel, layers, se) blocks, "
                            f"got {self.blocks!r}")
        blocks = []
        for b, ((e, k, n, se), (_, _, _, layer_choices)) in enumerate(zip(given, BLOCK_PLAN)):
            if e not in EXPANDS or k not in KERNELS or n not in layer_choices or not isinstance(se, bool):
                raise SpecError(f"Accel-NASBench: block{b} (e={e}, k={k}, l={n}, se={se}) out of range: e in "
                                f"{EXPANDS}, k in {KERNELS}, l in {layer_choices}, se a bool")
            blocks.append(AccelBlock(int(e), int(k), int(n), se))
        object.__setattr__(self, "blocks", tuple(blocks))

    @classmethod
    def from_architecture(cls, arch: dict) -> "AccelSpec":
        """From the benchmark's ``architecture`` dict (``block{b}_e``, ``_k``, ``_l``, ``_se``)."""
        try:
            return cls(tuple(AccelBlock(arch[f"block{b}_e"], arch[f"block{b}_k"], arch[f"block{b}_l"],
                                        arch[f"block{b}_se"]) for b in range(len(BLOCK_PLAN))))
        except KeyError as e:
            raise SpecError(f"Accel-NASBench architecture lacks {e.args[0]!r}") from None


def accel_plan(spec: AccelSpec) -> list[Layer]:
    """Stem (3x3 s2 conv, BN, swish), the blocks' MBConv layers, head (1x1 conv to 1280, BN, swish),
    global pooling and classifier (dropout 0.2). C_exp = make_divisible(C_in * e); SE squeezes to
    max(1, C_in // 4) of the layer's *input* width. Training-time stochastic depth has no node."""
    plan: list[Layer] = [ConvBNAct(3, STEM, 3, 2, act=ACT)]
    for (e, k, n, se), (c_in, c_out, stride, _) in zip(spec.blocks, BLOCK_PLAN):
        for i in range(n):
            c = c_in if i == 0 else c_out
            mid = make_divisible(c * e)
            plan.append(MBConv(c, mid, c_out, k, stride if i == 0 else 1, ACT,
                               SqueezeExcite(mid, max(1, c // 4), ACT, "sigmoid") if se else None))
    return plan + [ConvBNAct(BLOCK_PLAN[-1][1], HEAD, 1, act=ACT), GlobalAvgPool(), Classifier(HEAD, 1000, 0.2)]


class AccelNASBench(PlanFamily):
    name = "accel_nasbench"

    def __init__(self):
        size = 1
        for _, _, _, layer_choices in BLOCK_PLAN:
            size *= len(EXPANDS) * len(KERNELS) * len(layer_choices) * 2
        self.space_size = size

    def parse(self, text: str) -> AccelSpec:
        tokens = text.split("_")
        matches = [_TOKEN.fullmatch(t) for t in tokens]
        if len(tokens) != len(BLOCK_PLAN) or not all(matches):
            raise SpecError(f"malformed Accel-NASBench spec {text!r}; expected 7 tokens e<e>k<k>l<l>s<0|1>")
        return AccelSpec(tuple(AccelBlock(int(m[1]), int(m[2]), int(m[3]), m[4] == "1") for m in matches))

    def format(self, spec: AccelSpec) -> str:
        return "_".join(f"e{e}k{k}l{n}s{int(se)}" for e, k, n, se in spec.blocks)

    def plan(self, spec: AccelSpec) -> list[Layer]:
        return accel_plan(spec)

    def input_shape(self, spec: AccelSpec) -> tuple[int, int, int]:
        return (3, RESOLUTION, RESOLUTION)

    def sample(self, rng: random.Random) -> AccelSpec:
        """Uniform per ConfigSpace coordinate (the released data is not: it has fewer SE blocks)."""
        return AccelSpec(tuple(AccelBlock(rng.choice(EXPANDS), rng.choice(KERNELS), rng.choice(layer_choices),
                                          rng.random() < 0.5) for _, _, _, layer_choices in BLOCK_PLAN))

    def mutate(self, spec: AccelSpec, rng: random.Random) -> AccelSpec:
        """Change one block's expand ratio or kernel, its layer count by one, or toggle its SE."""
        b = rng.randrange(len(BLOCK_PLAN))
        e, k, n, se = spec.blocks[b]
        layer_choices = BLOCK_PLAN[b][3]
        move = rng.choice(("expand", "kernel", "layers", "se"))
        if move == "expand":
            e = rng.choice([v for v in EXPANDS if v != e])
        elif move == "kernel":
            k = rng.choice([v for v in KERNELS if v != k])
        elif move == "layers":
            n = rng.choice([m for m in (n - 1, n + 1) if m in layer_choices])
        else:
            se = not se
        blocks = list(spec.blocks)
        blocks[b] = AccelBlock(e, k, n, se)
        return AccelSpec(tuple(blocks))


register(AccelNASBench())
