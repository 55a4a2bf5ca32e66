"""HiAML (GENNAPE, CIFAR-10): 4 stages of 2 identical blocks, each stage one of 14 GA-NAS blocks.

Spec string: the four short block names, e.g. ``"z-a22-src1-t31"``. 14^4 = 38,416 networks.
Built as GENNAPE's PyTorch ``HiAMLNet``: conv-BN-act ops inside blocks use ReLU6 (GENNAPE's
TensorFlow graph builder uses ReLU there; the parameter and FLOP counts are the same), InceptionS
uses ReLU6 and each block ends with ReLU.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Iterator

from ..errors import SpecError
from . import gennape_blocks as gb
from .base import Family, register
from .gennape_blocks import Act, Dag, GlobalPool, Linear, Node

BLOCKS = ("z", "a22", "b23", "j30", "g30", "r30", "l20", "t20", "t31", "src0", "src1", "src3", "src7", "src8")
STAGE_WIDTHS = (64, 128, 128, 256)
REDUCTION_STAGES = (1, 3)
N_CLASSES = 10


@dataclass(frozen=True)
class HiAMLSpec:
    blocks: tuple[str, str, str, str]  # short names, one per stage

    def __post_init__(self):
        if len(self.blocks) != 4 or any(b not in BLOCKS for b in self.blocks):
            raise SpecError(f"HiAML needs 4 block names from {', '.join(BLOCKS)}; got {self.blocks}")


def block(name: str, c_in: int, c: int, s: int) -> Dag:
    """One HiAML block mapping ``c_in`` to ``c`` channels with stride ``s`` (GENNAPE's ``Block*``)."""
    def c3r(width=c, stride=1): return gb.conv_bn_act(width, 3, stride)
    def c1r(width=c, stride=1): return gb.conv_bn_act(width, 1, stride)
    def c3(stride=1): return gb.conv_bn(c, 3, stride)
    def c1(stride=1): return gb.conv_bn(c, 1, stride)
    proj = gb.conv_bn(c, 1, s) if s != 1 or c_in != c else ()
    relu = (Act("relu"),)
    N = Node
    nodes = {
        "z": [N("n1", ("in",), c3r(stride=s)), N("n2", ("n1",), gb.inception_s(c)), N("out", ("n1", "n2"), relu)],
        "a22": [N("n1", ("in",), c3r(stride=s)), N("n2", ("n1",), c1r()), N("n3", ("n2",), c1()),
                N("out", ("n1", "n3"), relu)],
        "b23": [N("p", ("in",), proj), N("n1", ("in",), gb.inception_s(c, 3, s)), N("n2", ("n1",), gb.inception_s(c)),
                N("out", ("p", "n2"), relu)],
        "j30": [N("p", ("in",), proj), N("n1", ("in",), c3r(stride=s)), N("n2", ("n1",), gb.inception_s(c)),
                N("out", ("p", "n2"), relu)],
        "g30": [N("p", ("in",), proj), N("n1", ("in",), gb.inception_s(c, 3, s)),
                N("n2", ("p", "n1"), gb.inception_s(c)), N("n3", ("n2",), c1()), N("out", ("n1", "n3"), relu)],
        "r30": [N("p2", ("in",), proj), N("p4", ("in",), proj), N("n1", ("in",), gb.inception_s(c, 3, s)),
                N("n2", ("p2", "n1"), c1()), N("n3", ("n1",), gb.inception_s(c)), N("out", ("p4", "n2", "n3"), relu)],
        "l20": [N("n1", ("in",), c3r(stride=s)), N("n2", ("n1",), c1()), N("out", ("n2",), relu)],
        "t20": [N("n1", ("in",), c1(s)), N("n2", ("in",), gb.inception_s(c, 3, s)), N("out", ("n1", "n2"), relu)],
        "t31": [N("p3", ("in",), proj), N("p4", ("in",), proj), N("n1", ("in",), gb.inception_s(c, 3, s)),
                N("n2", ("n1",), c1r()), N("n3", ("p3", "n2"), gb.inception_s(c)),
                N("out", ("p4", "n2", "n3"), relu)],
        "src0": [N("n1", ("in",), c1r(stride=s)), N("n2", ("n1",), c3r()), N("n3", ("n2",), c3()),
                 N("out", ("n1", "n3"), relu)],
        "src1": [N("n1", ("in",), c1r(stride=s)), N("n2", ("in",), c3r(width=c_in)), N("n3", ("n2",), c3(s)),
                 N("out", ("n1", "n3"), relu)],
        "src3": [N("n1", ("in",), c1(s)), N("n2", ("in",), c1r(width=c_in)), N("n3", ("n2",), c3r(stride=s)),
                 N("n4", ("n3",), c1()), N("out", ("n1", "n4"), relu)],
        "src7": [N("n1", ("in",), c1(s)), N("n2", ("n1",), gb.inception_s(c)), N("n3", ("n2",), gb.inception_s(c)),
                 N("out", ("n1", "n3"), relu)],
        "src8": [N("n1", ("in",), c1(s)), N("n2", ("n1",), gb.inception_s(c)), N("n3", ("n2",), c1()),
                 N("out", ("n1", "n3"), relu)],
    }[name]
    return Dag(tuple(nodes))


def layers(spec: HiAMLSpec) -> tuple:
    out = [*gb.conv_bn_act(64, 3, 2, act="relu")]
    c = 64
    for stage, name in enumerate(spec.blocks):
        for i in range(2):
            reduce = i == 0 and stage in REDUCTION_STAGES
            out.append(block(name, c, STAGE_WIDTHS[stage], 2 if reduce else 1))
            c = STAGE_WIDTHS[stage]
    return (*out, GlobalPool(), Linear(N_CLASSES))


class HiAML(Family):
    name = "hiaml"
    space_size = len(BLOCKS) ** 4

    def parse(self, text: str) -> HiAMLSpec:
        return HiAMLSpec(tuple(text.strip().split("-")))

    def format(self, spec: HiAMLSpec) -> str:
        return "-".join(spec.blocks)

    def build(self, spec: HiAMLSpec):
        return gb.module(layers(spec), 3)

    def to_graph(self, spec: HiAMLSpec):
        return gb.graph(layers(spec), self.input_shape(spec), self.format(spec))

    def sample(self, rng: random.Random) -> HiAMLSpec:
        return HiAMLSpec(tuple(rng.choice(BLOCKS) for _ in range(4)))

    def mutate(self, spec: HiAMLSpec, rng: random.Random) -> HiAMLSpec:
        stage = rng.randrange(4)
        blocks = list(spec.blocks)
        blocks[stage] = rng.choice([b for b in BLOCKS if b != blocks[stage]])
        return HiAMLSpec(tuple(blocks))

    def input_shape(self, spec: HiAMLSpec) -> tuple[int, int, int]:
        return (3, 32, 32)

    def enumerate(self) -> Iterator[HiAMLSpec]:
        return (HiAMLSpec(b) for b in itertools.product(BLOCKS, repeat=4))


register(HiAML())
