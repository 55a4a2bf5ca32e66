"""Two-Path (GENNAPE, CIFAR-10): two parallel paths of 2-4 single-path blocks after a shared stem.

Spec string: the two paths joined by ``|``; a path's blocks joined by ``,``; a block's ops joined by
``+``; a ``*`` before a block marks one of the path's two reduction blocks (stride 2, channels x2).
Example: ``"*conv3x3+maxpool3x3,*double3x3|conv5x5,*bottleneck-r2-k3,*conv1x1+inception_s5x5"``.

Built as GENNAPE's PyTorch ``TwoPathNet``: bottleneck ops have ReLU6 after both convs (GENNAPE's
TensorFlow graph builder has none; parameter and FLOP counts are equal). ``sample`` is GENNAPE's
own sampler, which defined the labelled benchmark; it is not uniform over networks (uniform would
almost always give 4-block paths, since a path of length L has 1,624^L C(L, 2) versions).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from ..errors import SpecError
from . import gennape_blocks as gb
from .base import Family, register
from .gennape_blocks import BN, Dag, GlobalPool, Linear, Node, Pool

CONV_OPS = ("conv3x3", "double3x3", "conv5x5", "bottleneck-r2-k3", "bottleneck-r4-k3", "bottleneck-e2-k3",
            "inception_s3x3", "inception_s5x5")
SUPP_OPS = ("conv1x1", "bottleneck-r2-k1", "bottleneck-e2-k1", "avgpool3x3", "maxpool3x3")
C_STEM = 32
N_CLASSES = 10


@dataclass(frozen=True)
class TwoPathBlock:
    ops: tuple[str, ...]  # execution order
    reduce: bool = False

    def __post_init__(self):
        unknown = [op for op in self.ops if op not in CONV_OPS + SUPP_OPS]
        n_supp = sum(op in SUPP_OPS for op in self.ops)
        if unknown or not 1 <= len(self.ops) <= 3 or n_supp > 1 or n_supp == len(self.ops):
            raise SpecError(f"invalid Two-Path block {self.ops}: needs 1-3 known ops, at least one conv op "
                            f"({', '.join(CONV_OPS)}) and at most one supplementary op ({', '.join(SUPP_OPS)})")


@dataclass(frozen=True)
class TwoPathSpec:
    paths: tuple[tuple[TwoPathBlock, ...], tuple[TwoPathBlock, ...]]

    def __post_init__(self):
        if len(self.paths) != 2:
            raise SpecError(f"Two-Path needs exactly 2 paths, got {len(self.paths)}")
        for path in self.paths:
            if not 2 <= len(path) <= 4 or sum(b.reduce for b in path) != 2:
                raise SpecError(f"a Two-Path path needs 2-4 blocks of which exactly 2 reduce; got "
                                f"{len(path)} blocks, {sum(b.reduce for b in path)} reducing")


def op_layers(name: str, c_in: int, c_out: int, stride: int) -> tuple:
    """GENNAPE's Two-Path op ``name`` mapping ``c_in`` to ``c_out`` channels with ``stride``."""
    if name.startswith("conv"):
        k = int(name[4])
        return gb.conv_bn_act(c_out, k, stride)
    if name == "double3x3":
        return gb.conv_bn_act(c_in, 3, stride) + gb.conv_bn_act(c_out, 3)
    if name.startswith("bottleneck"):
        _, ratio, kernel = name.split("-")
        hidden = max(1, c_in // int(ratio[1:])) if ratio[0] == "r" else c_in * int(ratio[1:])
        k = int(kernel[1:])
        return gb.conv_bn_act(hidden, k, stride) + gb.conv_bn_act(c_out, k)
    if name.startswith("inception_s"):
        return gb.inception_s(c_out, int(name[-1]), stride)
    if name in ("avgpool3x3", "maxpool3x3"):
        return (Pool(name[:7], 3, stride), BN())
    raise SpecError(f"unknown Two-Path op {name!r}")


def block_layers(block: TwoPathBlock, c_in: int) -> Dag:
    """The first conv op maps ``c_in`` to the block width with the block stride; the input is added
    back when neither changes."""
    c_out, stride = (2 * c_in, 2) if block.reduce else (c_in, 1)
    layers, c, strided = (), c_in, False
    for op in block.ops:
        if op in CONV_OPS and not strided:
            layers += op_layers(op, c, c_out, stride)
            c, strided = c_out, True
        else:
            layers += op_layers(op, c, c, 1)
    return gb.residual(layers, use=not block.reduce)


def layers(spec: TwoPathSpec) -> tuple:
    chains = []
    for path in spec.paths:
        chain, c = [], C_STEM
        for block in path:
            chain.append(block_layers(block, c))
            c *= 2 if block.reduce else 1
        chains.append(tuple(chain))
    body = Dag((Node("path1", ("in",), chains[0]), Node("path2", ("in",), chains[1]),
                Node("post", ("path1", "path2"), gb.conv_bn_act(512, 3), merge="concat")))
    return (*gb.conv_bn_act(C_STEM, 3), *gb.conv_bn_act(C_STEM, 3, 2), body, GlobalPool(), Linear(N_CLASSES))


def _sample_ops(rng: random.Random, n_ops: int) -> tuple[str, ...]:
    """GENNAPE's block sampler: one conv op, then each further op is a supplementary op with
    probability 5/13 until one is drawn; shuffled."""
    ops, has_supp = [rng.choice(CONV_OPS)], False
    for _ in range(n_ops - 1):
        if rng.random() < len(SUPP_OPS) / (len(CONV_OPS) + len(SUPP_OPS)) and not has_supp:
            ops.append(rng.choice(SUPP_OPS))
            has_supp = True
        else:
            ops.append(rng.choice(CONV_OPS))
    rng.shuffle(ops)
    return tuple(ops)


def _mutate_path(path: list[TwoPathBlock], rng: random.Random) -> list[TwoPathBlock]:
    i = rng.randrange(len(path))
    ops = list(path[i].ops)
    move = rng.choice(("replace_op", "add_op", "remove_op", "swap_ops", "add_block", "remove_block",
                       "move_reduction"))
    if move == "replace_op":
        j = rng.randrange(len(ops))
        ops[j] = rng.choice(CONV_OPS if ops[j] in CONV_OPS else SUPP_OPS)
    elif move == "add_op":
        ops.insert(rng.randrange(len(ops) + 1), rng.choice(CONV_OPS + SUPP_OPS))
    elif move == "remove_op":
        ops.pop(rng.randrange(len(ops)))
    elif move == "swap_ops":
        rng.shuffle(ops)
    elif move == "add_block":
        return path[:i] + [TwoPathBlock(_sample_ops(rng, rng.randint(1, 3)))] + path[i:]
    elif move == "remove_block":
        return path[:i] + path[i + 1:]
    else:
        j = rng.randrange(len(path))
        path = list(path)
        path[i], path[j] = replace(path[i], reduce=path[j].reduce), replace(path[j], reduce=path[i].reduce)
        return path
    return path[:i] + [TwoPathBlock(tuple(ops), path[i].reduce)] + path[i + 1:]


class TwoPath(Family):
    name = "two_path"

    def parse(self, text: str) -> TwoPathSpec:
        paths = []
        for path in text.strip().split("|"):
            blocks = []
            for block in path.split(","):
                block = block.strip()
                blocks.append(TwoPathBlock(tuple(block.lstrip("*").split("+")), block.startswith("*")))
            paths.append(tuple(blocks))
        return TwoPathSpec(tuple(paths))

    def format(self, spec: TwoPathSpec) -> str:
        return "|".join(",".join(("*" if b.reduce else "") + "+".join(b.ops) for b in path)
                        for path in spec.paths)

    def build(self, spec: TwoPathSpec):
        return gb.module(layers(spec), 3)

    def to_graph(self, spec: TwoPathSpec):
        return gb.graph(layers(spec), self.input_shape(spec), self.format(spec))

    def sample(self, rng: random.Random) -> TwoPathSpec:
        paths = []
        for _ in range(2):
            n_blocks = rng.randint(2, 4)
            reduce = set(rng.sample(range(n_blocks), 2))
            paths.append(tuple(TwoPathBlock(_sample_ops(rng, rng.randint(1, 3)), i in reduce)
                               for i in range(n_blocks)))
        return TwoPathSpec(tuple(paths))

    def mutate(self, spec: TwoPathSpec, rng: random.Random) -> TwoPathSpec:
        while True:
            p = rng.randrange(2)
            try:
                paths = list(spec.paths)
                paths[p] = tuple(_mutate_path(list(paths[p]), rng))
                new = TwoPathSpec(tuple(paths))
            except SpecError:
                continue
            if new != spec:
                return new

    def input_shape(self, spec: TwoPathSpec) -> tuple[int, int, int]:
        return (3, 32, 32)


register(TwoPath())
