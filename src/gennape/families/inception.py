"""Inception (GENNAPE, CIFAR-10): 4 stages, each repeating one multi-path block 2-6 times.

Follows GENNAPE's code (4 stages of 2-6 blocks, widths 32/64/128/256, reductions at stages 1-3),
not the paper's "3 stages of 2-4 blocks": the code is what built and sampled the networks, and the
paper's smaller backbone would fall even further below its Figure 2 FLOPs (1-2 G; GENNAPE's sampler
gives 0.1-1.9 G, counting 2 per multiply-add as GENNAPE does). Convolutions carry a bias, as in
GENNAPE; the PyTorch builder is followed (InceptionP applies ReLU6 to each branch and to the concat).

Spec string: stages joined by ``|``; a stage is ``{n_blocks}:`` then its paths joined by ``;``; a
path is its ops joined by ``+``, then ``@{C_internal}/{C_out}``. Example stage:
``3:conv3x3+maxpool3x3@32/32;inception_p5x5@16/16``. Path widths are the stage width split over
the paths (n = 3: 2q, q, q + r with q = width // 4), in any order, each at least 16; C_internal is
C_out / 2, C_out or 2 C_out (at least 16), and may differ from C_out only in a path with two or more
channel-changing ops. ``sample`` is GENNAPE's hierarchical sampler (not uniform over networks).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace

from ..errors import SpecError
from . import gennape_blocks as gb
from .base import Family, register
from .gennape_blocks import BN, Act, Conv, Dag, GlobalPool, Linear, Node, Pool

CONV_OPS = ("conv3x3", "inception_s3x3", "inception_p3x3", "depthwise3x3", "conv5x5", "depthwise5x5",
            "inception_s5x5", "inception_p5x5")
SUPP_OPS = ("conv1x1", "avgpool3x3", "maxpool3x3", "double1x1")
CHANNEL_OPS = CONV_OPS + ("conv1x1", "double1x1")  # ops that can change the width
STAGE_WIDTHS = (32, 64, 128, 256)
STAGE_STRIDES = (1, 2, 2, 2)
MIN_WIDTH = 16
MAX_OPS = {1: 3, 2: 4, 3: 8, 4: 10}  # per block, by number of paths
MIN_OPS_PER_PATH = {1: 1, 2: 1, 3: 2, 4: 2}
RATIOS = ((0.5, 0.3), (1, 0.6), (2, 0.1))  # C_internal / C_out and GENNAPE's sampling probability
N_CLASSES = 10


@dataclass(frozen=True)
class InceptionPath:
    ops: tuple[str, ...]
    c_internal: int
    c_out: int

    @property
    def can_change_width(self) -> bool:
        return sum(op in CHANNEL_OPS for op in self.ops) >= 2


@dataclass(frozen=True)
class InceptionStage:
    n_blocks: int
    paths: tuple[InceptionPath, ...]


@dataclass(frozen=True)
class InceptionSpec:
    stages: tuple[InceptionStage, InceptionStage, InceptionStage, InceptionStage]

    def __post_init__(self):
        if len(self.stages) != len(STAGE_WIDTHS):
            raise SpecError(f"Inception needs {len(STAGE_WIDTHS)} stages, got {len(self.stages)}")
        for stage, width in zip(self.stages, STAGE_WIDTHS):
            _check_stage(stage, width)


def path_widths(width: int, n_paths: int) -> list[int]:
    """GENNAPE's split of a block's width over its paths (before shuffling), each at least 16."""
    if n_paths == 3:
        q = width // 4
        split = [2 * q, q, width - 3 * q]
    else:
        q = width // n_paths
        split = [q] * (n_paths - 1) + [width - q * (n_paths - 1)]
    return [max(c, MIN_WIDTH) for c in split]


def internal_width(c_out: int, ratio: float) -> int:
    return max(int(c_out * ratio), MIN_WIDTH)


def _check_stage(stage: InceptionStage, width: int) -> None:
    n = len(stage.paths)
    problem = None
    if not 2 <= stage.n_blocks <= 6:
        problem = f"{stage.n_blocks} blocks (2-6 allowed)"
    elif n not in MAX_OPS:
        problem = f"{n} paths (1-4 allowed)"
    elif sum(len(p.ops) for p in stage.paths) > MAX_OPS[n]:
        problem = f"more than {MAX_OPS[n]} ops in a {n}-path block"
    elif Counter(p.c_out for p in stage.paths) != Counter(path_widths(width, n)):
        problem = f"path widths {[p.c_out for p in stage.paths]} are not a split of {width} into {n}"
    for p in stage.paths:
        if problem:
            break
        n_supp = sum(op in SUPP_OPS for op in p.ops)
        allowed = {internal_width(p.c_out, r) for r, _ in RATIOS} if p.can_change_width else {p.c_out}
        if any(op not in CONV_OPS + SUPP_OPS for op in p.ops):
            problem = f"unknown op in {p.ops}; known: {', '.join(CONV_OPS + SUPP_OPS)}"
        elif len(p.ops) < MIN_OPS_PER_PATH[n] or n_supp > 1 or n_supp == len(p.ops):
            problem = (f"path {p.ops} needs at least {MIN_OPS_PER_PATH[n]} ops, one conv op and at most one "
                       "supplementary op")
        elif p.c_internal not in allowed:
            problem = f"path {p.ops} has C_internal {p.c_internal}, allowed {sorted(allowed)}"
    if problem:
        raise SpecError(f"invalid Inception stage of width {width}: {problem}")


# -------------------------------------------------------------------- network
def op_layers(name: str, c_in: int, c_out: int, stride: int) -> tuple:
    """GENNAPE's Inception op ``name`` mapping ``c_in`` to ``c_out`` channels with ``stride``."""
    relu6 = Act("relu6")
    if name in ("conv1x1", "conv3x3", "conv5x5"):
        return gb.conv_bn_act(c_out, int(name[4]), stride, bias=True)
    if name.startswith("depthwise"):
        pre = (Conv(c_out, 1),) if c_in != c_out else ()
        return pre + (Conv(c_out, int(name[-1]), stride, bias=True, depthwise=True), BN(), relu6)
    if name.startswith("inception_s"):
        k = int(name[-1])
        return (Conv(c_out, (1, k), (1, stride), bias=True), BN(), relu6,
                Conv(c_out, (k, 1), (stride, 1), bias=True), BN(), relu6)
    if name.startswith("inception_p"):
        k, c1 = int(name[-1]), c_out // 2
        c2 = c_out - c1
        if stride == 1:
            a = (Conv(c1, (1, k), bias=True), BN())
            b = (Conv(c2, (k, 1), bias=True), BN())
        else:
            a = (Conv(c1, (1, k), (1, stride), bias=True), BN(), Conv(c1, (k, 1), (stride, 1), bias=True), BN())
            b = (Conv(c2, (k, 1), (stride, 1), bias=True), BN(), Conv(c2, (1, k), (1, stride), bias=True), BN())
        return (Dag((Node("a", ("in",), a + (relu6,)), Node("b", ("in",), b + (relu6,)),
                     Node("out", ("a", "b"), (relu6,), merge="concat"))),)
    if name == "double1x1":
        return gb.conv_bn_act(c_out, 1, bias=True) + gb.conv_bn_act(c_out, 1, stride, bias=True)
    if name in ("avgpool3x3", "maxpool3x3"):
        return (Pool(name[:7], 3, stride), BN())
    raise SpecError(f"unknown Inception op {name!r}")


def path_layers(path: InceptionPath, c_in: int, stride: int) -> tuple:
    """GENNAPE's roles: the first width-changing op maps to C_internal, the first conv op carries
    the stride, the last width-changing op maps to the path's C_out."""
    channel_ops = [i for i, op in enumerate(path.ops) if op in CHANNEL_OPS]
    first_c, last_c = channel_ops[0], channel_ops[-1]
    first_conv = next(i for i, op in enumerate(path.ops) if op in CONV_OPS)
    layers, c = (), c_in
    for i, op in enumerate(path.ops):
        target = path.c_internal if i == first_c else path.c_out if i == last_c else c
        layers += op_layers(op, c, target, stride if i == first_conv else 1)
        c = target
    return layers


def block_layers(stage: InceptionStage, c_in: int, c_out: int, stride: int) -> Dag:
    nodes = [Node(f"path{i}", ("in",), path_layers(p, c_in, stride)) for i, p in enumerate(stage.paths)]
    merged = Node("concat", tuple(n.name for n in nodes), merge="concat")
    if sum(p.c_out for p in stage.paths) != c_out:
        merged = replace(merged, layers=gb.conv_bn(c_out, 1, bias=True))
    nodes.append(merged)
    if stride == 1 and c_in == c_out:
        nodes.append(Node("out", ("concat", "in")))
    return Dag(tuple(nodes))


def layers(spec: InceptionSpec) -> tuple:
    out = [*gb.conv_bn_act(STAGE_WIDTHS[0], 3, bias=True)]
    c = STAGE_WIDTHS[0]
    for stage, width, stride in zip(spec.stages, STAGE_WIDTHS, STAGE_STRIDES):
        for i in range(stage.n_blocks):
            out.append(block_layers(stage, c, width, stride if i == 0 else 1))
            c = width
    return (*out, *gb.conv_bn_act(512, 3, bias=True), GlobalPool(), Linear(N_CLASSES))


# -------------------------------------------------------------------- sampling and mutation
def _sample_path(rng: random.Random, n_ops: int, c_out: int) -> InceptionPath:
    ops, has_supp = [rng.choice(CONV_OPS)], False
    for _ in range(n_ops - 1):
        if rng.random() < len(SUPP_OPS) / (len(CONV_OPS) + len(SUPP_OPS)) and not has_supp:
            ops.append(rng.choice(SUPP_OPS))
            has_supp = True
        else:
            ops.append(rng.choice(CONV_OPS))
    rng.shuffle(ops)
    path = InceptionPath(tuple(ops), c_out, c_out)
    if path.can_change_width:
        ratio = rng.choices([r for r, _ in RATIOS], [p for _, p in RATIOS])[0]
        path = replace(path, c_internal=internal_width(c_out, ratio))
    return path


def _sample_stage(rng: random.Random, width: int) -> InceptionStage:
    n_paths = rng.randint(1, 4)
    widths = path_widths(width, n_paths)
    rng.shuffle(widths)
    paths: list[InceptionPath] = []
    lo = MIN_OPS_PER_PATH[n_paths]
    for i, c in enumerate(widths):
        hi = MAX_OPS[n_paths] - sum(len(p.ops) for p in paths) - lo * (n_paths - i - 1)
        paths.append(_sample_path(rng, rng.randint(lo, hi), c))
    return InceptionStage(rng.randint(2, 6), tuple(paths))


def _ratio(path: InceptionPath) -> float:
    return path.c_internal / path.c_out


def _mutate_stage(stage: InceptionStage, width: int, rng: random.Random) -> InceptionStage:
    paths = list(stage.paths)
    i = rng.randrange(len(paths))
    p = paths[i]
    ops = list(p.ops)
    move = rng.choice(("replace_op", "add_op", "remove_op", "n_blocks", "add_path", "remove_path", "ratio"))
    if move == "n_blocks":
        return replace(stage, n_blocks=stage.n_blocks + rng.choice((-1, 1)))
    if move == "ratio":
        paths[i] = replace(p, c_internal=internal_width(p.c_out, rng.choice(RATIOS)[0]))
        return replace(stage, paths=tuple(paths))
    if move in ("add_path", "remove_path"):
        if move == "add_path":
            paths.insert(rng.randrange(len(paths) + 1), _sample_path(rng, 2, width))
        elif len(paths) > 1:
            paths.pop(i)
        widths = path_widths(width, len(paths))
        rng.shuffle(widths)
        paths = [replace(q, c_out=c, c_internal=internal_width(c, _ratio(q)) if q.can_change_width else c)
                 for q, c in zip(paths, widths)]
        return replace(stage, paths=tuple(paths))
    if move == "replace_op":
        j = rng.randrange(len(ops))
        ops[j] = rng.choice(CONV_OPS if ops[j] in CONV_OPS else SUPP_OPS)
    elif move == "add_op":
        ops.insert(rng.randrange(len(ops) + 1), rng.choice(CONV_OPS + SUPP_OPS))
    elif len(ops) > 1:
        ops.pop(rng.randrange(len(ops)))
    new = InceptionPath(tuple(ops), p.c_internal, p.c_out)
    paths[i] = new if new.can_change_width else replace(new, c_internal=new.c_out)
    return replace(stage, paths=tuple(paths))


# -------------------------------------------------------------------- the family
class Inception(Family):
    name = "inception"

    def parse(self, text: str) -> InceptionSpec:
        stages = []
        try:
            for stage in text.strip().split("|"):
                n_blocks, paths = stage.split(":")
                parsed = []
                for path in paths.split(";"):
                    ops, widths = path.split("@")
                    c_internal, c_out = widths.split("/")
                    parsed.append(InceptionPath(tuple(ops.strip().split("+")), int(c_internal), int(c_out)))
                stages.append(InceptionStage(int(n_blocks), tuple(parsed)))
        except ValueError:
            raise SpecError(f"malformed Inception spec {text!r}; expected e.g. "
                            "'2:conv3x3+maxpool3x3@32/32|...' (4 stages)") from None
        return InceptionSpec(tuple(stages))

    def format(self, spec: InceptionSpec) -> str:
        return "|".join(f"{s.n_blocks}:" + ";".join(f"{'+'.join(p.ops)}@{p.c_internal}/{p.c_out}" for p in s.paths)
                        for s in spec.stages)

    def build(self, spec: InceptionSpec):
        return gb.module(layers(spec), 3)

    def to_graph(self, spec: InceptionSpec):
        return gb.graph(layers(spec), self.input_shape(spec), self.format(spec))

    def sample(self, rng: random.Random) -> InceptionSpec:
        return InceptionSpec(tuple(_sample_stage(rng, w) for w in STAGE_WIDTHS))

    def mutate(self, spec: InceptionSpec, rng: random.Random) -> InceptionSpec:
        while True:
            s = rng.randrange(len(spec.stages))
            stages = list(spec.stages)
            try:
                stages[s] = _mutate_stage(stages[s], STAGE_WIDTHS[s], rng)
                new = InceptionSpec(tuple(stages))
            except SpecError:
                continue
            if new != spec:
                return new

    def input_shape(self, spec: InceptionSpec) -> tuple[int, int, int]:
        return (3, 32, 32)


register(Inception())
