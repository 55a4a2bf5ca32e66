"""Layer recipes that build both a PyTorch module and its computation graph from one description.

A network is a tuple of layers; a :class:`Dag` layer holds named nodes, each summing (left fold) or
concatenating its inputs and then applying its own layers. ``module(layers, c_in)`` gives the
``torch.nn.Module`` and ``graph(layers, input_shape)`` the :class:`ComputeGraph` that converting
that module gives, so a family writes its architecture once. Used by the GENNAPE CIFAR families
(HiAML, Inception, Two-Path), NAS-Bench-Macro and TransNAS-Bench-101.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SpecError
from ..graph import ComputeGraph, GraphBuilder, Tensor
from ..graph.compute_graph import pair
from ..graph.modules import Zero


@dataclass(frozen=True)
class Conv:
    """2-D convolution with padding ⌊k/2⌋ per dimension; ``depthwise`` makes groups = input channels."""
    c_out: int
    kernel: int | tuple[int, int]
    stride: int | tuple[int, int] = 1
    bias: bool = False
    depthwise: bool = False


@dataclass(frozen=True)
class BN:
    """BatchNorm2d with affine scale and shift."""


@dataclass(frozen=True)
class Act:
    name: str  # "relu" | "relu6"


@dataclass(frozen=True)
class Pool:
    """Max or average pooling with padding ⌊k/2⌋ (average pooling counts the padding, PyTorch's default)."""
    kind: str  # "maxpool" | "avgpool"
    kernel: int
    stride: int = 1


@dataclass(frozen=True)
class ZeroOp:
    """The ``none`` op: zeros with ``c_out`` channels at the input resolution divided by ``stride``."""
    c_out: int
    stride: int = 1


@dataclass(frozen=True)
class ShiftPad:
    """Shift the map up-left by one pixel, filling the bottom row and right column with zeros (pad one
    at the bottom/right, drop the first row and column): the view FactorizedReduce feeds its second
    convolution. One ``pad`` node."""


@dataclass(frozen=True)
class GlobalPool:
    """Global average pooling to a vector (graph op ``mean``)."""


@dataclass(frozen=True)
class Linear:
    out_features: int


@dataclass(frozen=True)
class Node:
    """``layers`` applied to the sum (``merge="add"``, a left fold in ``inputs`` order) or the channel
    concatenation (``merge="concat"``) of the named ``inputs``; ``"in"`` is the Dag's input."""
    name: str
    inputs: tuple[str, ...]
    layers: tuple = ()
    merge: str = "add"


@dataclass(frozen=True)
class Dag:
    """A sub-network of named nodes in execution order; its output is the last node."""
    nodes: tuple[Node, ...]


Layer = Union[Conv, BN, Act, Pool, ZeroOp, ShiftPad, GlobalPool, Linear, Dag]

_ACTS = {"relu": nn.ReLU, "relu6": nn.ReLU6}


# -------------------------------------------------------------------- channel bookkeeping
def out_channels(layers: Sequence[Layer], c: int) -> int:
    """Channels after ``layers`` applied to a ``c``-channel input."""
    for layer in layers:
        if isinstance(layer, (Conv, ZeroOp)):
            c = layer.c_out
        elif isinstance(layer, Linear):
            c = layer.out_features
        elif isinstance(layer, Dag):
            c = _dag_channels(layer, c)[layer.nodes[-1].name]
    return c


def _dag_channels(dag: Dag, c_in: int) -> dict[str, int]:
    channels = {"in": c_in}
    for node in dag.nodes:
        try:
            widths = [channels[i] for i in node.inputs]
        except KeyError as e:
            raise SpecError(f"node {node.name!r} reads {e.args[0]!r} before it is defined") from None
        merged = sum(widths) if node.merge == "concat" else widths[0]
        if node.merge == "add" and len(set(widths)) > 1:
            raise SpecError(f"node {node.name!r} adds tensors of {widths} channels")
        channels[node.name] = out_channels(node.layers, merged)
    return channels


# -------------------------------------------------------------------- PyTorch
class _ShiftPad(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # pad(x, (0, 1, 0, 1))[:, :, 1:, 1:] in one op: negative padding crops
        return F.pad(x, (-1, 1, -1, 1))


class DagModule(nn.Module):
    """Runs a :class:`Dag`: each node merges its inputs, then applies its layers."""

    def __init__(self, dag: Dag, c_in: int):
        super().__init__()
        channels = _dag_channels(dag, c_in)
        index = {"in": 0} | {node.name: i + 1 for i, node in enumerate(dag.nodes)}
        self.sources = [[index[i] for i in node.inputs] for node in dag.nodes]
        self.concat = [node.merge == "concat" for node in dag.nodes]
        self.ops = nn.ModuleList()
        for node in dag.nodes:
            widths = [channels[i] for i in node.inputs]
            self.ops.append(module(node.layers, sum(widths) if node.merge == "concat" else widths[0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = [x]
        for sources, concat, op in zip(self.sources, self.concat, self.ops):
            if concat and len(sources) > 1:
                h = torch.cat([values[s] for s in sources], dim=1)
            else:
                h = values[sources[0]]
                for s in sources[1:]:
                    h = h + values[s]
            values.append(op(h))
        return values[-1]


def module(layers: Sequence[Layer], c_in: int) -> nn.Module:
    """The ``torch.nn.Module`` for ``layers`` on a ``c_in``-channel input."""
    mods: list[nn.Module] = []
    c = c_in
    for layer in layers:
        if isinstance(layer, Conv):
            k = pair(layer.kernel)
            mods.append(nn.Conv2d(c, layer.c_out, k, pair(layer.stride), (k[0] // 2, k[1] // 2),
                                  groups=c if layer.depthwise else 1, bias=layer.bias))
        elif isinstance(layer, BN):
            mods.append(nn.BatchNorm2d(c))
        elif isinstance(layer, Act):
            mods.append(_ACTS[layer.name]())
        elif isinstance(layer, Pool):
            pool = nn.MaxPool2d if layer.kind == "maxpool" else nn.AvgPool2d
            mods.append(pool(layer.kernel, layer.stride, layer.kernel // 2))
        elif isinstance(layer, ZeroOp):
            mods.append(Zero(c, layer.c_out, layer.stride))
        elif isinstance(layer, ShiftPad):
            mods.append(_ShiftPad())
        elif isinstance(layer, GlobalPool):
            mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif isinstance(layer, Linear):
            mods.append(nn.Linear(c, layer.out_features))
        elif isinstance(layer, Dag):
            mods.append(DagModule(layer, c))
        else:
            raise SpecError(f"unknown layer {layer!r}")
        c = out_channels([layer], c)
    if len(mods) == 1:
        return mods[0]
    return nn.Sequential(*mods) if mods else nn.Identity()


# -------------------------------------------------------------------- computation graph
def add_layers(b: GraphBuilder, x: Tensor, layers: Sequence[Layer]) -> Tensor:
    """Append the nodes of ``layers`` fed by ``x`` to ``b``; returns the output tensor."""
    for layer in layers:
        if isinstance(layer, Conv):
            x = b.conv(x, layer.c_out, layer.kernel, layer.stride, bias=layer.bias,
                       groups=x.shape[0] if layer.depthwise else 1)
        elif isinstance(layer, BN):
            x = b.bn(x)
        elif isinstance(layer, Act):
            x = b.act(x, layer.name)
        elif isinstance(layer, Pool):
            x = b.pool(x, layer.kind, layer.kernel, layer.stride)
        elif isinstance(layer, ZeroOp):
            x = b.zero(x, layer.c_out, layer.stride)
        elif isinstance(layer, ShiftPad):
            x = b.add_node("pad", [x], x.shape)
        elif isinstance(layer, GlobalPool):
            x = b.mean(x)
        elif isinstance(layer, Linear):
            x = b.linear(x, layer.out_features)
        elif isinstance(layer, Dag):
            values = {"in": x}
            for node in layer.nodes:
                ins = [values[i] for i in node.inputs]
                h = b.concat(ins, 0) if node.merge == "concat" else b.add(*ins)
                values[node.name] = add_layers(b, h, node.layers)
            x = values[layer.nodes[-1].name]
        else:
            raise SpecError(f"unknown layer {layer!r}")
    return x


def graph(layers: Sequence[Layer], input_shape: tuple[int, int, int], name: str = "") -> ComputeGraph:
    """The computation graph of ``module(layers, input_shape[0])`` on a ``input_shape`` (C, H, W) input."""
    b = GraphBuilder(name)
    b.output(add_layers(b, b.input(input_shape), layers))
    return b.build()


# -------------------------------------------------------------------- common recipes
def conv_bn(c_out: int, kernel, stride=1, bias: bool = False) -> tuple:
    return (Conv(c_out, kernel, stride, bias), BN())


def conv_bn_act(c_out: int, kernel, stride=1, act: str = "relu6", bias: bool = False) -> tuple:
    return (Conv(c_out, kernel, stride, bias), BN(), Act(act))


def inception_s(c_out: int, kernel: int = 3, stride: int = 1) -> tuple:
    """GENNAPE's InceptionS as HiAML and Two-Path build it: a 1xk conv carrying the whole stride,
    then a kx1 conv; BN and ReLU6 after each (no bias)."""
    return (Conv(c_out, (1, kernel), stride), BN(), Act("relu6"), Conv(c_out, (kernel, 1)), BN(), Act("relu6"))


def residual(layers: tuple, use: bool, act: str | None = None) -> Dag:
    """``layers`` with the input added when ``use`` (then ``act`` on the sum, if given)."""
    tail = (Act(act),) if act else ()
    if not use:
        return Dag((Node("out", ("in",), layers + tail),))
    return Dag((Node("body", ("in",), layers), Node("out", ("body", "in"), tail)))
