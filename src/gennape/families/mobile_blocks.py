"""Building blocks of the ImageNet families (OFA MobileNetV3 / ProxylessNAS / ResNet-50, Accel-NASBench).

A network is written once, as a *plan*: a list of small frozen layer descriptions. Each description
has two readings that are kept side by side so they cannot drift apart:

* ``module()``: the trainable ``torch.nn.Module``;
* ``graph(builder, x)``: the same layer as :class:`~gennape.graph.GraphBuilder` calls, giving the
  nodes that ``from_torch`` produces for that module.

:func:`plan_module` and :func:`plan_graph` read a whole plan either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import torch
from torch import nn

from ..graph import ComputeGraph, GraphBuilder, Tensor
from .base import Family

#: graph op name -> torch activation module (the names ``from_torch`` gives these modules)
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "sigmoid": nn.Sigmoid, "swish": nn.SiLU,
    "hardswish": nn.Hardswish, "hardsigmoid": nn.Hardsigmoid,
}


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """TF-slim channel rounding used by every mobile network: nearest multiple of ``divisor``, never
    below ``min_value`` (default ``divisor``) and never more than 10 % below ``value``."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class Layer(Protocol):
    def module(self) -> nn.Module: ...

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor: ...


def plan_module(plan: Sequence[Layer]) -> nn.Sequential:
    return nn.Sequential(*(layer.module() for layer in plan))


def plan_graph(plan: Sequence[Layer], input_shape: tuple[int, int, int], name: str) -> ComputeGraph:
    b = GraphBuilder(name)
    b.output(Chain(tuple(plan)).graph(b, b.input(input_shape)))
    return b.build()


class PlanFamily(Family):
    """A family whose networks are plans of layers: ``build`` and ``to_graph`` both read
    :meth:`plan`, so the module and the graph cannot drift apart. Specs carry their resolution."""

    def plan(self, spec) -> Sequence[Layer]:
        raise NotImplementedError

    def build(self, spec) -> nn.Sequential:
        return plan_module(self.plan(spec))

    def to_graph(self, spec) -> ComputeGraph:
        return plan_graph(self.plan(spec), self.input_shape(spec), self.format(spec))

    def input_shape(self, spec) -> tuple[int, int, int]:
        return (3, spec.resolution, spec.resolution)


@dataclass(frozen=True)
class ConvBNAct:
    """Conv k x k (padding k // 2) -> [BatchNorm] -> [activation]."""
    c_in: int
    c_out: int
    kernel: int = 1
    stride: int = 1
    groups: int = 1
    act: str | None = None
    bn: bool = True
    bias: bool = False

    def module(self) -> nn.Module:
        layers = [nn.Conv2d(self.c_in, self.c_out, self.kernel, self.stride, self.kernel // 2,
                            groups=self.groups, bias=self.bias)]
        if self.bn:
            layers.append(nn.BatchNorm2d(self.c_out))
        if self.act:
            layers.append(ACTIVATIONS[self.act]())
        return nn.Sequential(*layers)

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        x = b.conv(x, self.c_out, self.kernel, self.stride, groups=self.groups, bias=self.bias)
        if self.bn:
            x = b.bn(x)
        return b.act(x, self.act) if self.act else x


class _SqueezeExciteModule(nn.Module):
    def __init__(self, channels: int, squeeze: int, act: str, gate: str):
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, squeeze, 1),
                                  ACTIVATIONS[act](), nn.Conv2d(squeeze, channels, 1), ACTIVATIONS[gate]())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


@dataclass(frozen=True)
class SqueezeExcite:
    """x * gate(conv1x1(act(conv1x1(GAP(x))))), both 1x1 convs with bias."""
    channels: int
    squeeze: int
    act: str
    gate: str

    def module(self) -> nn.Module:
        return _SqueezeExciteModule(self.channels, self.squeeze, self.act, self.gate)

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        s = b.mean(x, keepdim=True)
        s = b.act(b.conv(s, self.squeeze, 1, bias=True), self.act)
        s = b.act(b.conv(s, self.channels, 1, bias=True), self.gate)
        return b.mul(x, s)


@dataclass(frozen=True)
class Chain:
    """Layers applied one after another."""
    layers: tuple[Layer, ...]

    def module(self) -> nn.Module:
        return plan_module(self.layers)

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer.graph(b, x)
        return x


class _ResidualModule(nn.Module):
    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + x


@dataclass(frozen=True)
class Residual:
    """body(x) + x, with no activation after the sum."""
    body: Layer

    def module(self) -> nn.Module:
        return _ResidualModule(self.body.module())

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        return b.add(self.body.graph(b, x), x)


@dataclass(frozen=True)
class MBConv:
    """Inverted residual: [1x1 expand -> BN -> act] (absent when ``c_mid == c_in``) -> depthwise k x k
    -> BN -> act -> [SE] -> 1x1 project -> BN, plus the input when stride 1 and ``c_in == c_out``."""
    c_in: int
    c_mid: int
    c_out: int
    kernel: int
    stride: int
    act: str
    se: SqueezeExcite | None = None

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.c_in == self.c_out

    def _layer(self) -> Layer:
        layers: list[Layer] = []
        if self.c_mid != self.c_in:
            layers.append(ConvBNAct(self.c_in, self.c_mid, 1, act=self.act))
        layers.append(ConvBNAct(self.c_mid, self.c_mid, self.kernel, self.stride, groups=self.c_mid, act=self.act))
        if self.se:
            layers.append(self.se)
        layers.append(ConvBNAct(self.c_mid, self.c_out, 1))
        body = Chain(tuple(layers))
        return Residual(body) if self.residual else body

    def module(self) -> nn.Module:
        return self._layer().module()

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        return self._layer().graph(b, x)


@dataclass(frozen=True)
class GlobalAvgPool:
    """Global average pooling to (C, 1, 1); op ``mean``."""

    def module(self) -> nn.Module:
        return nn.AdaptiveAvgPool2d(1)

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        return b.mean(x, keepdim=True)


@dataclass(frozen=True)
class Classifier:
    """Flatten -> Dropout -> Linear; flatten and dropout move no data and have no graph node."""
    c_in: int
    n_classes: int = 1000
    dropout: float = 0.0

    def module(self) -> nn.Module:
        return nn.Sequential(nn.Flatten(1), nn.Dropout(self.dropout), nn.Linear(self.c_in, self.n_classes))

    def graph(self, b: GraphBuilder, x: Tensor) -> Tensor:
        return b.linear(Tensor(x.node, (self.c_in,)), self.n_classes)
