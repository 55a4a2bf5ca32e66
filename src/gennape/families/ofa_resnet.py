"""OFA-ResNet50: sub-networks of the ``ofa_resnet50`` supernet of Once-for-All (Cai et al., ICLR 2020,
https://github.com/mit-han-lab/once-for-all).

OFA encodes a sub-network as ``d[5]`` (stem depth 0 or 2, then 0..2 extra blocks per stage),
``e[18]`` (bottleneck expand ratio per block slot; slots per stage 4, 4, 6, 4) and ``w[6]`` (indices
into the width multipliers 0.65 / 0.8 / 1.0 for the stem's middle width, the stem's output width and
the four stages). A spec keeps only the active blocks' e. ``w[0] = 1`` gives the same 24-channel
stem as ``w[0] = 0`` (make_divisible(20) = make_divisible(24) = 24) and is stored as 0.

Canonical string (e in percent, one ``e`` token per stage)::

    r224_d2_w012210_e20.25_e25.35.20_e35.35.35.35.20_e25.25.20
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from ..errors import SpecError
from ..graph import GraphBuilder, Tensor
from .base import register
from .mobile_blocks import (
    Chain,
    Classifier,
    ConvBNAct,
    GlobalAvgPool,
    Layer,
    PlanFamily,
    Residual,
    make_divisible,
)
from .ofa_mbv3 import PREDICTOR_RESOLUTIONS, check_resolution, step_resolution

EXPANDS = (0.2, 0.25, 0.35)
WIDTH_MULTS = (0.65, 0.8, 1.0)
STEM_DEPTHS = (0, 2)
EXTRA_DEPTHS = (0, 1, 2)
BASE_DEPTHS = (2, 2, 4, 2)
STAGE_WIDTHS = (256, 512, 1024, 2048)
STAGE_STRIDES = (1, 2, 2, 2)

STEM_OUT = tuple(make_divisible(64 * m) for m in WIDTH_MULTS)  # 40, 48, 64
STEM_MID = tuple(make_divisible(c // 2) for c in STEM_OUT)  # 24, 24, 32


def _canonical_width(slot: int, index: int) -> int:
    """The smallest width index giving the same channel count as ``index`` at width slot ``slot``."""
    return STEM_MID.index(STEM_MID[index]) if slot == 0 else index


@dataclass(frozen=True)
class ResNetSpec:
    """Stem depth (0 or 2), six width indices, the active blocks' expand ratios per stage, input size."""
    stem_depth: int
    widths: tuple[int, ...]
    stages: tuple[tuple[float, ...], ...]
    resolution: int = 224

    def __post_init__(self):
        if self.stem_depth not in STEM_DEPTHS:
            raise SpecError(f"OFA-ResNet50: stem depth {self.stem_depth} not in {STEM_DEPTHS}")
        try:
            widths = tuple(self.widths)
            stages = tuple(tuple(float(e) for e in stage) for stage in self.stages)
        except (TypeError, ValueError):
            raise SpecError(f"OFA-ResNet50: widths must be 6 indices and stages sequences of expand ratios, "
                            f"got {self.widths!r}, {self.stages!r}") from None
        if len(widths) != 6 or any(w not in (0, 1, 2) for w in widths):
            raise SpecError(f"OFA-ResNet50: widths must be 6 indices in 0..2, got {self.widths!r}")
        if len(stages) != len(BASE_DEPTHS):
            raise SpecError(f"OFA-ResNet50: expected 4 stages, got {len(stages)}")
        for s, (stage, base) in enumerate(zip(stages, BASE_DEPTHS)):
            if len(stage) - base not in EXTRA_DEPTHS or any(e not in EXPANDS for e in stage):
                raise SpecError(f"OFA-ResNet50: stage {s + 1} {stage} needs {base}..{base + 2} expand ratios "
                                f"from {EXPANDS}")
        object.__setattr__(self, "stem_depth", int(self.stem_depth))
        object.__setattr__(self, "widths", tuple(_canonical_width(i, int(w)) for i, w in enumerate(widths)))
        object.__setattr__(self, "stages", stages)
        object.__setattr__(self, "resolution", check_resolution(self.resolution, "OFA-ResNet50"))

    @classmethod
    def from_slots(cls, d: Sequence[int], e: Sequence[float], w: Sequence[int], resolution: int) -> "ResNetSpec":
        """From OFA's ``d[5], e[18], w[6]`` encoding; the e of unused slots are dropped."""
        if len(d) != 5 or len(e) != sum(BASE_DEPTHS) + 2 * len(BASE_DEPTHS) or len(w) != 6:
            raise SpecError(f"OFA-ResNet50 encoding needs d[5], e[18], w[6]: got {len(d)}, {len(e)}, {len(w)}")
        stages, start = [], 0
        for base, extra in zip(BASE_DEPTHS, d[1:]):
            stages.append(tuple(e[start:start + base + extra]))
            start += base + max(EXTRA_DEPTHS)
        return cls(d[0], tuple(w), tuple(stages), resolution)


@dataclass(frozen=True)
class _Pool:
    """Max or average pooling (``kind`` is the graph op name); ``ceil_mode`` as in PyTorch."""
    kind: str
    kernel: int
    stride: int
    padding: int
    ceil_mode: bool = False

    def module(self) -> nn.Module:
        cls = nn.MaxPool2d if self.kind == "maxpool" else nn.AvgPool2d
        return cls(self.kernel, self.stride, self.padding, ceil_mode=self.ceil_mode)

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        return b.pool(x, self.kind, self.kernel, self.stride, self.padding, self.ceil_mode)


class _BottleneckModule(nn.Module):
    def __init__(self, body: nn.Module, shortcut: nn.Module):
        super().__init__()
        self.body, self.shortcut, self.act = body, shortcut, nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


@dataclass(frozen=True)
class Bottleneck:
    """ReLU(CBR 1x1 -> CBR 3x3 (stride) -> CB 1x1  +  shortcut). The shortcut is the identity when the
    shape is kept, else OFA's ``avgpool_conv``: AvgPool(stride, ceil mode; left out at stride 1, where it
    is the identity) -> 1x1 conv -> BN."""
    c_in: int
    c_mid: int
    c_out: int
    stride: int

    def _body(self) -> Chain:
        return Chain((ConvBNAct(self.c_in, self.c_mid, 1, act="relu"),
                      ConvBNAct(self.c_mid, self.c_mid, 3, self.stride, act="relu"),
                      ConvBNAct(self.c_mid, self.c_out, 1)))

    def _shortcut(self) -> Chain:
        if self.stride == 1 and self.c_in == self.c_out:
            return Chain(())
        pool = (_Pool("avgpool", self.stride, self.stride, 0, ceil_mode=True),) if self.stride > 1 else ()
        return Chain(pool + (ConvBNAct(self.c_in, self.c_out, 1),))

    def module(self) -> nn.Module:
        shortcut = self._shortcut()
        return _BottleneckModule(self._body().module(), shortcut.module() if shortcut.layers else nn.Identity())

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        return b.relu(b.add(self._body().graph(b, x), self._shortcut().graph(b, x)))


def resnet_plan(spec: ResNetSpec) -> list[Layer]:
    """Stem (3x3 conv, [3x3 conv + identity], 3x3 conv; all stride-1 but the first), max pool, four
    bottleneck stages, global pooling and classifier (OFA's ``ResNets``); C_mid = make_divisible(C_out * e)."""
    mid, c = STEM_MID[spec.widths[0]], STEM_OUT[spec.widths[1]]
    plan: list[Layer] = [ConvBNAct(3, mid, 3, 2, act="relu")]
    if spec.stem_depth == 2:
        plan.append(Residual(ConvBNAct(mid, mid, 3, act="relu")))
    plan += [ConvBNAct(mid, c, 3, act="relu"), _Pool("maxpool", 3, 2, 1)]
    for width, stride, w, expands in zip(STAGE_WIDTHS, STAGE_STRIDES, spec.widths[2:], spec.stages):
        c_out = make_divisible(width * WIDTH_MULTS[w])
        for i, e in enumerate(expands):
            plan.append(Bottleneck(c, make_divisible(round(c_out * e)), c_out, stride if i == 0 else 1))
            c = c_out
    return plan + [GlobalAvgPool(), Classifier(c, 1000)]


class OFAResNet50(PlanFamily):
    name = "ofa_resnet"

    def __init__(self, resolutions: Sequence[int] = PREDICTOR_RESOLUTIONS):
        self.resolutions = tuple(check_resolution(r, "OFA-ResNet50") for r in resolutions)
        blocks = 1
        for base in BASE_DEPTHS:
            blocks *= sum(len(EXPANDS) ** (base + extra) for extra in EXTRA_DEPTHS)
        stem_widths = len(set(STEM_MID)) * len(STEM_OUT)
        self.space_size = (len(STEM_DEPTHS) * stem_widths * len(WIDTH_MULTS) ** 4 * blocks
                           * len(self.resolutions))

    def parse(self, text: str) -> ResNetSpec:
        m = re.fullmatch(r"r(\d+)_d(\d)_w([0-2]{6})((?:_e\d+(?:\.\d+)*){4})", text)
        if not m:
            raise SpecError(f"malformed OFA-ResNet50 spec {text!r}; expected r<res>_d<0|2>_w<6 digits>_ and "
                            "4 stages e<percent>.<percent>...")
        stages = tuple(tuple(int(p) / 100 for p in token[1:].split(".")) for token in m[4][1:].split("_"))
        return ResNetSpec(int(m[2]), tuple(int(c) for c in m[3]), stages, int(m[1]))

    def format(self, spec: ResNetSpec) -> str:
        stages = "_".join("e" + ".".join(f"{round(e * 100)}" for e in stage) for stage in spec.stages)
        return f"r{spec.resolution}_d{spec.stem_depth}_w{''.join(map(str, spec.widths))}_{stages}"

    def plan(self, spec: ResNetSpec) -> list[Layer]:
        return resnet_plan(spec)

    def sample(self, rng: random.Random) -> ResNetSpec:
        """OFA's sampler: stem depth, every extra depth, every e slot and every width index uniform
        (so two thirds of the samples get the 24-channel stem middle width)."""
        stages = tuple(tuple(rng.choice(EXPANDS) for _ in range(base + rng.choice(EXTRA_DEPTHS)))
                       for base in BASE_DEPTHS)
        widths = tuple(rng.randrange(len(WIDTH_MULTS)) for _ in range(6))
        return ResNetSpec(rng.choice(STEM_DEPTHS), widths, stages, rng.choice(self.resolutions))

    def mutate(self, spec: ResNetSpec, rng: random.Random) -> ResNetSpec:
        """Toggle the stem depth, change one width index, one stage's depth by one block (a new block
        draws its e), one block's e, or the resolution by one step."""
        moves = ["stem", "width", "depth", "expand"] + ["resolution"] * (len(self.resolutions) > 1)
        move = rng.choice(moves)
        stem, widths, stages, res = spec.stem_depth, list(spec.widths), [list(s) for s in spec.stages], spec.resolution
        if move == "stem":
            stem = STEM_DEPTHS[1 - STEM_DEPTHS.index(stem)]
        elif move == "width":
            i = rng.randrange(6)
            widths[i] = rng.choice([v for v in range(len(WIDTH_MULTS))
                                    if _canonical_width(i, v) != widths[i] and _canonical_width(i, v) == v])
        elif move == "depth":
            s = rng.randrange(len(stages))
            n, base = len(stages[s]), BASE_DEPTHS[s]
            if rng.choice([m for m in (n - 1, n + 1) if m - base in EXTRA_DEPTHS]) > n:
                stages[s].append(rng.choice(EXPANDS))
            else:
                stages[s].pop()
        elif move == "expand":
            s = rng.randrange(len(stages))
            i = rng.randrange(len(stages[s]))
            stages[s][i] = rng.choice([e for e in EXPANDS if e != stages[s][i]])
        else:
            res = step_resolution(res, self.resolutions, rng)
        return ResNetSpec(stem, tuple(widths), tuple(map(tuple, stages)), res)


register(OFAResNet50())
