"""What a readout reads besides the mean-pooled embedding: the graph's size, as log10 GFLOPs.

A mean over nodes cannot tell a graph's total cost, on which accuracy (and GENNAPE's Eq. 5 labels)
depend, so the heads read it as one more column instead of guessing it from structure
(docs/decisions.md, "The heads read log10 GFLOPs")."""

from __future__ import annotations

import numpy as np
import torch


def log10_gflops(macs) -> np.ndarray:
    """log10 of GFLOPs (MACs / 1e9, at least 1 MAC), float64: the unit of the heads' FLOPs column."""
    return np.log10(np.maximum(np.asarray(macs, dtype=np.float64), 1.0)) - 9.0


def head_inputs(embeddings: torch.Tensor, macs: torch.Tensor, flops_input: bool) -> torch.Tensor:
    """What a readout MLP reads: the (B, dim) mean-pooled embeddings and, with ``flops_input``, each
    graph's log10 GFLOPs (``macs``: (B,) multiply-adds) as one more column. The column is
    :func:`log10_gflops` computed in the embeddings' dtype (float32), as the shipped heads were
    trained; the float64 function serves the FLOPs centre, so they stay two expressions."""
    if not flops_input:
        return embeddings
    log_gflops = torch.log10(macs.to(embeddings.dtype).clamp(min=1.0)) - 9.0
    return torch.cat([embeddings, log_gflops[:, None]], dim=1)
