"""GENNAPE's soft-positive contrastive loss (Eq. 1) and its projection head.

References: GENNAPE (Mills et al., AAAI 2023, https://arxiv.org/abs/2211.17226), whose loss builds on
the spectral-distance soft positives of Han et al., "A General-Purpose Transferable Predictor for
Neural Architecture Search", SDM 2023 (https://arxiv.org/abs/2302.10835); the projection head is
SimCLR's (Chen et al., ICML 2020, https://arxiv.org/abs/2002.05709).

A batch of N graphs is encoded twice with different dropout masks (SimCSE-style views), giving 2N
embeddings; the projection head maps each onto the unit sphere. For every anchor i, the loss is the
cross-entropy between a target distribution alpha^(i) over the other 2N - 1 items and the softmax of
their similarities z_i . z_l / tau:

    L = -mean_i sum_{l != i} alpha^(i)_l log softmax_{r != i}(z_i . z_r / tau)_l
    alpha^(i) = softmax_{l != i}(-sigma(i, l) / T)

where sigma is the Euclidean distance between Laplacian spectra (:mod:`.spectral`). The other view
of the same graph has sigma = 0 and is the main positive; topologically similar graphs are partial
positives. The paper sums over anchors; we average, so the scale does not depend on the batch size.

Defaults: tau = 0.1 (SimCLR/SupCon's usual range; the paper does not state it), T = 0.05 (the
alpha temperature of GENNAPE's predecessor, Han et al. SDM-23).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GennapeError


class ProjectionHead(nn.Module):
    r"""Embedding (dim) -> unit vector (out_dim), SimCLR's projection head
    (https://arxiv.org/abs/2002.05709):

    .. math::
        z = \frac{g(h)}{\lVert g(h) \rVert_2}, \qquad g(h) = W_2\,\mathrm{ReLU}(W_1 h + b_1) + b_2
    """

    def __init__(self, dim: int = 32, out_dim: int = 32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, out_dim))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(h), dim=1)


def soft_contrastive_loss(z1: torch.Tensor, z2: torch.Tensor, spectra: torch.Tensor, tau: float = 0.1,
                          temperature: float = 0.05) -> torch.Tensor:
    r"""GENNAPE's Eq. 1 for two views ``z1``, ``z2`` (N, p) of N graphs whose Laplacian spectra are
    ``spectra`` (N, q). With :math:`z_1 \ldots z_{2N}` both views stacked and :math:`\sigma(i, l)` the
    Euclidean distance between the spectra of items i and l:

    .. math::
        \mathcal{L} = -\frac{1}{2N} \sum_{i=1}^{2N} \sum_{l \ne i} \alpha^{(i)}_l
        \log \frac{e^{z_i \cdot z_l / \tau}}{\sum_{r \ne i} e^{z_i \cdot z_r / \tau}}, \qquad
        \alpha^{(i)}_l = \frac{e^{-\sigma(i, l) / T}}{\sum_{r \ne i} e^{-\sigma(i, r) / T}}

    ``tau`` is :math:`\tau`, ``temperature`` is :math:`T`. The views should be unit vectors (see
    :class:`ProjectionHead`). Returns a scalar."""
    if z1.shape != z2.shape or z1.dim() != 2 or spectra.dim() != 2 or len(spectra) != len(z1):
        raise GennapeError(f"soft_contrastive_loss needs two (N, p) views and (N, q) spectra; got "
                           f"{tuple(z1.shape)}, {tuple(z2.shape)}, {tuple(spectra.shape)}")
    if len(z1) < 2:
        raise GennapeError("soft_contrastive_loss needs at least 2 graphs per batch")
    z = torch.cat([z1, z2])
    s = torch.cat([spectra, spectra]).to(z.dtype)
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)
    log_prob = F.log_softmax((z @ z.T / tau).masked_fill(self_mask, float("-inf")), dim=1)
    alpha = F.softmax((-torch.cdist(s, s) / temperature).masked_fill(self_mask, float("-inf")), dim=1)
    return -(alpha * log_prob.masked_fill(self_mask, 0.0)).sum(dim=1).mean()
