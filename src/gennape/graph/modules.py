"""PyTorch modules with a computation-graph meaning of their own, recognised by ``from_torch``."""

from __future__ import annotations

import torch
from torch import nn


class Zero(nn.Module):
    """The ``none`` op of cell spaces (NB-201, TransNAS micro): a zero tensor with ``c_out``
    channels at the input's resolution divided by ``stride``. Graph op ``zero``."""

    def __init__(self, c_in: int, c_out: int | None = None, stride: int = 1):
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out or c_in, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, ::self.stride, ::self.stride]
        if self.c_out == self.c_in:
            return x.mul(0.0)
        return x.new_zeros(x.shape[0], self.c_out, x.shape[2], x.shape[3])
