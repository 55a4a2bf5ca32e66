"""OFA-MobileNetV3: sub-networks of the ``ofa_mbv3_d234_e346_k357`` supernet of Once-for-All (Cai et al.,
ICLR 2020, https://github.com/mit-han-lab/once-for-all).

OFA encodes a sub-network with 20 block slots (5 stages x 4): ``ks[20]``, ``e[20]``, ``d[5]``; stage s
runs its first ``d[s]`` slots. A spec keeps only the active blocks, so encodings that differ in unused
slots are one spec. Canonical string (stages joined by ``_``, a stage's blocks ``k{kernel}e{expand}``
joined by ``.``)::

    r224_w1.2_k3e4.k5e6_k7e3.k3e3.k5e4_k3e6.k3e6_k5e4.k5e4.k7e3.k3e6_k3e3.k7e6

The elastic-stage helpers here are shared with OFA-ProxylessNAS (:mod:`.ofa_pn`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Sequence

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

KERNELS = (3, 5, 7)
EXPANDS = (3, 4, 6)
DEPTHS = (2, 3, 4)
SLOTS_PER_STAGE = 4
#: input sizes the OFA supernets were trained at (multiples of 4 in 128..224)
ELASTIC_RESOLUTIONS = tuple(range(128, 225, 4))
#: input sizes of OFA's accuracy-predictor data, the default sampling set
PREDICTOR_RESOLUTIONS = (128, 160, 192, 224)
WIDTHS = (1.0, 1.2)

Block = tuple[int, int]  # (kernel, expand)
Stages = tuple[tuple[Block, ...], ...]

# (base width, stride of the first block, activation, squeeze-excite) of the five elastic stages
STAGE_PLAN = ((24, 2, "relu", False), (40, 2, "relu", True), (80, 2, "hardswish", False),
              (112, 1, "hardswish", True), (160, 2, "hardswish", True))
_BLOCK = re.compile(r"k(\d+)e(\d+)")


# ------------------------------------------------------------------ elastic MBConv stages (MBv3 and PN)
def stages_from_slots(ks: Sequence[int], e: Sequence[int], d: Sequence[int]) -> Stages:
    """Active blocks of OFA's slot encoding: stage s keeps slots 4s .. 4s + d[s] - 1."""
    if len(ks) != len(e) or len(ks) < SLOTS_PER_STAGE * len(d):
        raise SpecError(f"OFA encoding needs {SLOTS_PER_STAGE} ks/e slots per stage: got {len(ks)} ks, "
                        f"{len(e)} e for {len(d)} stages")
    if any(depth not in range(1, SLOTS_PER_STAGE + 1) for depth in d):
        raise SpecError(f"OFA encoding: stage depths {list(d)} must be in 1..{SLOTS_PER_STAGE}")
    return tuple(tuple((int(ks[SLOTS_PER_STAGE * s + i]), int(e[SLOTS_PER_STAGE * s + i])) for i in range(int(depth)))
                 for s, depth in enumerate(d))


def check_stages(stages, depth_choices: Sequence[Sequence[int]], family: str) -> Stages:
    """``stages`` as nested tuples of ints, or a :class:`SpecError` naming what is out of range."""
    try:
        stages = tuple(tuple((int(k), int(e)) for k, e in stage) for stage in stages)
    except (TypeError, ValueError):
        raise SpecError(f"{family}: stages must be sequences of (kernel, expand) pairs, got {stages!r}") from None
    if len(stages) != len(depth_choices):
        raise SpecError(f"{family}: expected {len(depth_choices)} stages, got {len(stages)}")
    for s, (stage, depths) in enumerate(zip(stages, depth_choices)):
        if len(stage) not in depths:
            raise SpecError(f"{family}: stage {s + 1} has {len(stage)} blocks, allowed {tuple(depths)}")
        for k, e in stage:
            if k not in KERNELS or e not in EXPANDS:
                raise SpecError(f"{family}: block k{k}e{e} in stage {s + 1}: kernel must be in {KERNELS}, "
                                f"expand in {EXPANDS}")
    return stages


def check_resolution(resolution: int, family: str) -> int:
    if resolution not in ELASTIC_RESOLUTIONS:
        raise SpecError(f"{family}: resolution {resolution} is not a multiple of 4 in 128..224")
    return int(resolution)


def format_stages(stages: Stages) -> str:
    return "_".join(".".join(f"k{k}e{e}" for k, e in stage) for stage in stages)


def parse_stages(tokens: Sequence[str], text: str) -> Stages:
    stages = []
    for token in tokens:
        blocks = []
        for part in token.split("."):
            m = _BLOCK.fullmatch(part)
            if not m:
                raise SpecError(f"malformed block {part!r} in {text!r}; expected k<kernel>e<expand>")
            blocks.append((int(m[1]), int(m[2])))
        stages.append(tuple(blocks))
    return tuple(stages)


def sample_stages(rng: random.Random, depth_choices: Sequence[Sequence[int]]) -> Stages:
    """OFA's sampler (every slot's k and e and every stage's d uniform), restricted to the active slots."""
    return tuple(tuple((rng.choice(KERNELS), rng.choice(EXPANDS)) for _ in range(rng.choice(depths)))
                 for depths in depth_choices)


def mutate_stages(stages: Stages, depth_choices: Sequence[Sequence[int]], rng: random.Random) -> Stages:
    """Resample one block's kernel or expand ratio, or grow / shrink one elastic stage by a block (a new
    block is drawn at random, as the slot it activates holds any k and e)."""
    elastic = [s for s, depths in enumerate(depth_choices) if len(depths) > 1]
    move = rng.choice(("kernel", "expand", "depth"))
    stages = [list(stage) for stage in stages]
    if move == "depth":
        s = rng.choice(elastic)
        n = len(stages[s])
        if rng.choice([m for m in (n - 1, n + 1) if m in depth_choices[s]]) > n:
            stages[s].append((rng.choice(KERNELS), rng.choice(EXPANDS)))
        else:
            stages[s].pop()
    else:
        s = rng.randrange(len(stages))
        i = rng.randrange(len(stages[s]))
        k, e = stages[s][i]
        if move == "kernel":
            k = rng.choice([v for v in KERNELS if v != k])
        else:
            e = rng.choice([v for v in EXPANDS if v != e])
        stages[s][i] = (k, e)
    return tuple(tuple(stage) for stage in stages)


def step_resolution(resolution: int, resolutions: Sequence[int], rng: random.Random) -> int:
    """The next smaller or larger size of ``resolutions``."""
    below = [r for r in resolutions if r < resolution]
    above = [r for r in resolutions if r > resolution]
    return rng.choice([r for r in (max(below, default=None), min(above, default=None)) if r is not None])


# ------------------------------------------------------------------ OFA-MobileNetV3
STAGE_DEPTHS = (DEPTHS,) * len(STAGE_PLAN)


@dataclass(frozen=True)
class MobileNetV3Spec:
    """Active (kernel, expand) blocks of the five elastic stages, input size and width multiplier."""
    stages: Stages
    resolution: int = 224
    width: float = 1.2

    def __post_init__(self):
        object.__setattr__(self, "stages", check_stages(self.stages, STAGE_DEPTHS, "OFA-MobileNetV3"))
        object.__setattr__(self, "resolution", check_resolution(self.resolution, "OFA-MobileNetV3"))
        if self.width not in WIDTHS:
            raise SpecError(f"OFA-MobileNetV3: width {self.width} not in {WIDTHS}")
        object.__setattr__(self, "width", float(self.width))

    @classmethod
    def from_slots(cls, ks: Sequence[int], e: Sequence[int], d: Sequence[int], resolution: int,
                   width: float) -> "MobileNetV3Spec":
        """From OFA's ``ks[20], e[20], d[5]`` encoding; the ks/e of unused slots are dropped."""
        if len(ks) != 20 or len(e) != 20 or len(d) != 5:
            raise SpecError(f"OFA-MobileNetV3 encoding needs ks[20], e[20], d[5]: got {len(ks)}, {len(e)}, {len(d)}")
        return cls(stages_from_slots(ks, e, d), resolution, width)


def mobilenet_v3_plan(spec: MobileNetV3Spec) -> list[Layer]:
    """Stem conv, first block, five elastic stages, final expand, feature mix and classifier (OFA's
    ``MobileNetV3``): SE with a ReLU inside and an h-sigmoid gate, C_sq = make_divisible(C_mid // 4)."""
    w = spec.width
    c = make_divisible(16 * w)
    plan: list[Layer] = [ConvBNAct(3, c, 3, 2, act="hardswish"), MBConv(c, c, c, 3, 1, "relu")]
    for (base, stride, act, use_se), blocks in zip(STAGE_PLAN, spec.stages):
        c_out = make_divisible(base * w)
        for i, (k, e) in enumerate(blocks):
            mid = make_divisible(round(c * e))
            se = SqueezeExcite(mid, make_divisible(mid // 4), "relu", "hardsigmoid") if use_se else None
            plan.append(MBConv(c, mid, c_out, k, stride if i == 0 else 1, act, se))
            c = c_out
    final_expand, feature_mix = make_divisible(960 * w), make_divisible(1280 * w)
    return plan + [ConvBNAct(c, final_expand, 1, act="hardswish"), GlobalAvgPool(),
                   ConvBNAct(final_expand, feature_mix, 1, act="hardswish", bn=False),
                   Classifier(feature_mix, 1000, dropout=0.1)]


class OFAMobileNetV3(PlanFamily):
    """OFA-MobileNetV3 at one width (GENNAPE uses 1.2; the labelled data is 1.0), sampled at
    ``resolutions``."""
    name = "ofa_mbv3"

    def __init__(self, width: float = 1.2, resolutions: Sequence[int] = PREDICTOR_RESOLUTIONS):
        self.width = width
        self.resolutions = tuple(check_resolution(r, "OFA-MobileNetV3") for r in resolutions)
        self.space_size = sum(9 ** d for d in DEPTHS) ** len(STAGE_PLAN) * len(self.resolutions)

    def parse(self, text: str) -> MobileNetV3Spec:
        tokens = text.split("_")
        if len(tokens) != 2 + len(STAGE_PLAN) or not re.fullmatch(r"r\d+", tokens[0]) \
                or not re.fullmatch(r"w\d+\.\d+", tokens[1]):
            raise SpecError(f"malformed OFA-MobileNetV3 spec {text!r}; expected r<res>_w<width>_ and 5 stages")
        return MobileNetV3Spec(parse_stages(tokens[2:], text), int(tokens[0][1:]), float(tokens[1][1:]))

    def format(self, spec: MobileNetV3Spec) -> str:
        return f"r{spec.resolution}_w{spec.width:.1f}_{format_stages(spec.stages)}"

    def plan(self, spec: MobileNetV3Spec) -> list[Layer]:
        return mobilenet_v3_plan(spec)

    def sample(self, rng: random.Random) -> MobileNetV3Spec:
        return MobileNetV3Spec(sample_stages(rng, STAGE_DEPTHS), rng.choice(self.resolutions), self.width)

    def mutate(self, spec: MobileNetV3Spec, rng: random.Random) -> MobileNetV3Spec:
        """One step of the resolution (probability 1/4, when the family samples several) or one
        :func:`mutate_stages` move; the width is kept."""
        if len(self.resolutions) > 1 and rng.random() < 1 / 4:
            return MobileNetV3Spec(spec.stages, step_resolution(spec.resolution, self.resolutions, rng), spec.width)
        return MobileNetV3Spec(mutate_stages(spec.stages, STAGE_DEPTHS, rng), spec.resolution, spec.width)


register(OFAMobileNetV3())
