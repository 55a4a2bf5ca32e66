"""Cost of single ops, shared by every route that builds a graph.

Convention: **one multiply-add is one FLOP** (the NAS literature's "FLOPs", i.e. MACs), and only the
multiply-adds of convolutions, linear layers and matrix products count; normalisation, activations,
pooling and element-wise ops count zero, as in ``torch.utils.flop_counter`` (whose numbers are twice
ours because it counts a multiply and an add separately). Parameters are trainable weights: conv and
linear weights and biases, and the affine scale and shift of normalisation layers (running statistics
are buffers, not parameters).
"""

from __future__ import annotations

import math


def conv_cost(c_in: int, c_out: int, kernel: tuple[int, int], groups: int, out_hw: tuple[int, int],
              bias: bool) -> tuple[int, int]:
    """(MACs, params) of a 2-D convolution producing an ``out_hw`` map."""
    weights = c_out * (c_in // groups) * kernel[0] * kernel[1]
    macs = weights * out_hw[0] * out_hw[1]
    return macs, weights + (c_out if bias else 0)


def linear_cost(in_features: int, out_features: int, rows: int, bias: bool) -> tuple[int, int]:
    """(MACs, params) of a linear layer applied to ``rows`` vectors (tokens)."""
    weights = in_features * out_features
    return weights * rows, weights + (out_features if bias else 0)


def matmul_cost(out_numel: int, contracted: int) -> int:
    """MACs of a (batched) matrix product: every output element is a ``contracted``-long dot product."""
    return out_numel * contracted


def norm_params(channels: int, affine: bool = True, bias: bool = True) -> int:
    """Parameters of a BatchNorm/LayerNorm/GroupNorm over ``channels``: scale and shift."""
    return (channels * (2 if bias else 1)) if affine else 0


def numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
