"""Small PyTorch blocks shared by the cell families, each next to its graph twin.

Every block is an ``nn.Module`` plus a function of the same name in snake_case that adds the same
primitives to a :class:`GraphBuilder`, so that a family's ``to_graph`` mirrors its ``build`` node for
node without instantiating any weights.
"""

from __future__ import annotations

import functools
import operator
from typing import Sequence

import torch
from torch import nn

from ..graph import GraphBuilder, Tensor


class ConvBNReLU(nn.Sequential):
    """Conv(k, stride, padding k//2, no bias) -> BN -> ReLU (post-activation, NB-101)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__(nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU())


def conv_bn_relu(b: GraphBuilder, x: Tensor, c_out: int, kernel: int, stride: int = 1) -> Tensor:
    return b.relu(b.bn(b.conv(x, c_out, kernel, stride)))


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv(k, stride, padding, dilation, no bias) -> BN (pre-activation, NB-201 and DARTS).
    ``affine=False`` gives a BN without scale and shift (NASLib's convention inside DARTS ops)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int | None = None,
                 affine: bool = True):
        super().__init__(nn.ReLU(), nn.Conv2d(c_in, c_out, kernel, stride,
                                              kernel // 2 if padding is None else padding, bias=False),
                         nn.BatchNorm2d(c_out, affine=affine))


def relu_conv_bn(b: GraphBuilder, x: Tensor, c_out: int, kernel: int, stride: int = 1,
                 padding: int | None = None, affine: bool = True) -> Tensor:
    return b.bn(b.conv(b.relu(x), c_out, kernel, stride, padding), affine)


def add_all(xs: Sequence[torch.Tensor]) -> torch.Tensor:
    """``xs[0] + xs[1] + ...`` as a left fold, the order :meth:`GraphBuilder.add` records. (Python's
    ``sum`` would start with ``0 + xs[0]``.)"""
    return functools.reduce(operator.add, xs)
