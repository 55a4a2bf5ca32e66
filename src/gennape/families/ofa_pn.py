"""OFA-ProxylessNAS: sub-networks of the ``ofa_proxyless_d234_e346_k357_w1.3`` supernet of Once-for-All
(Cai et al., ICLR 2020, https://github.com/mit-han-lab/once-for-all).

Like OFA-MobileNetV3 (:mod:`.ofa_mbv3`), plus a sixth stage of exactly one block whose kernel and
expand ratio are still elastic; ReLU6 everywhere, no squeeze-excite, width 1.3. Canonical string::

    r224_k3e4.k5e6_k7e3.k3e3.k5e4_k3e6.k3e6_k5e4.k5e4.k7e3.k3e6_k3e3.k7e6_k5e6
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
    make_divisible,
)
from .ofa_mbv3 import (
    DEPTHS,
    EXPANDS,
    KERNELS,
    PREDICTOR_RESOLUTIONS,
    Stages,
    check_resolution,
    check_stages,
    format_stages,
    mutate_stages,
    parse_stages,
    sample_stages,
    stages_from_slots,
    step_resolution,
)

WIDTH = 1.3
# (base width, stride of the first block) of the six stages
STAGE_PLAN = ((24, 2), (40, 2), (80, 2), (96, 1), (192, 2), (320, 1))
STAGE_DEPTHS = (DEPTHS,) * 5 + ((1,),)


@dataclass(frozen=True)
class ProxylessSpec:
    """Active (kernel, expand) blocks of the six stages (the last has one block) and the input size."""
    stages: Stages
    resolution: int = 224

    def __post_init__(self):
        object.__setattr__(self, "stages", check_stages(self.stages, STAGE_DEPTHS, "OFA-ProxylessNAS"))
        object.__setattr__(self, "resolution", check_resolution(self.resolution, "OFA-ProxylessNAS"))

    @classmethod
    def from_slots(cls, ks: Sequence[int], e: Sequence[int], d: Sequence[int], resolution: int) -> "ProxylessSpec":
        """From OFA's ``ks[21], e[21], d`` encoding (slot 20 is the sixth stage's block; OFA's sampler
        also lists that stage's fixed depth 1 as ``d[5]``)."""
        if len(ks) != 21 or len(e) != 21 or len(d) not in (5, 6):
            raise SpecError(f"OFA-ProxylessNAS encoding needs ks[21], e[21], d[5]: got {len(ks)}, {len(e)}, {len(d)}")
        return cls(stages_from_slots(ks[:20], e[:20], d[:5]) + (((int(ks[20]), int(e[20])),),), resolution)


def proxyless_plan(spec: ProxylessSpec) -> list[Layer]:
    """Stem conv, first block (e = 1, no residual: 40 -> 24 channels), six stages, feature mix (1x1
    conv, BN, ReLU6), global pooling and classifier (OFA's ``ProxylessNASNets``)."""
    c, first = make_divisible(32 * WIDTH), make_divisible(16 * WIDTH)
    plan: list[Layer] = [ConvBNAct(3, c, 3, 2, act="relu6"), MBConv(c, c, first, 3, 1, "relu6")]
    c = first
    for (base, stride), blocks in zip(STAGE_PLAN, spec.stages):
        c_out = make_divisible(base * WIDTH)
        for i, (k, e) in enumerate(blocks):
            plan.append(MBConv(c, make_divisible(round(c * e)), c_out, k, stride if i == 0 else 1, "relu6"))
            c = c_out
    feature_mix = make_divisible(1280 * WIDTH)
    return plan + [ConvBNAct(c, feature_mix, 1, act="relu6"), GlobalAvgPool(), Classifier(feature_mix, 1000, 0.1)]


class OFAProxylessNAS(PlanFamily):
    name = "ofa_pn"

    def __init__(self, resolutions: Sequence[int] = PREDICTOR_RESOLUTIONS):
        self.resolutions = tuple(check_resolution(r, "OFA-ProxylessNAS") for r in resolutions)
        self.space_size = (sum(9 ** d for d in DEPTHS) ** 5 * len(KERNELS) * len(EXPANDS)
                           * len(self.resolutions))

    def parse(self, text: str) -> ProxylessSpec:
        tokens = text.split("_")
        if len(tokens) != 1 + len(STAGE_PLAN) or not re.fullmatch(r"r\d+", tokens[0]):
            raise SpecError(f"malformed OFA-ProxylessNAS spec {text!r}; expected r<res>_ and 6 stages")
        return ProxylessSpec(parse_stages(tokens[1:], text), int(tokens[0][1:]))

    def format(self, spec: ProxylessSpec) -> str:
        return f"r{spec.resolution}_{format_stages(spec.stages)}"

    def plan(self, spec: ProxylessSpec) -> list[Layer]:
        return proxyless_plan(spec)

    def sample(self, rng: random.Random) -> ProxylessSpec:
        return ProxylessSpec(sample_stages(rng, STAGE_DEPTHS), rng.choice(self.resolutions))

    def mutate(self, spec: ProxylessSpec, rng: random.Random) -> ProxylessSpec:
        """One step of the resolution (probability 1/4, when the family samples several) or one
        :func:`~.ofa_mbv3.mutate_stages` move."""
        if len(self.resolutions) > 1 and rng.random() < 1 / 4:
            return ProxylessSpec(spec.stages, step_resolution(spec.resolution, self.resolutions, rng))
        return ProxylessSpec(mutate_stages(spec.stages, STAGE_DEPTHS, rng), spec.resolution)


register(OFAProxylessNAS())
