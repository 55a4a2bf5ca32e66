"""Prediction heads on graph embeddings: one MLP, GENNAPE's membership-weighted MLP ensemble, and a
pairwise "which network is better" classifier.

References: GENNAPE (Mills et al., AAAI 2023, https://arxiv.org/abs/2211.17226) for MLP-E; the
pairwise head is RankNet's model (Burges et al., "Learning to Rank using Gradient Descent", ICML 2005,
https://doi.org/10.1145/1102351.1102363).

* :class:`MLPHead`: h -> scalar.
* :class:`MembershipWeightedHeads` (MLP-E, Sec. 5.1): y = sum_j U_ij f_j(h_i) with fuzzy C-means
  memberships U (rows summing to 1), so the gradient reaching head j is scaled by U_ij.
* :class:`PairwiseHead`: P(a better than b) = sigmoid(g(h_a) - g(h_b)). Antisymmetric by
  construction (P(a, b) = 1 - P(b, a), P(a, a) = 1/2), and the per-graph score g ranks graphs
  directly. g is an :class:`MLPHead`, or :class:`MembershipWeightedHeads` for the FCM variant.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import GennapeError


class MLPHead(nn.Module):
    """``num_layers`` linear layers with ReLU between them: (B, in_dim) -> (B,)."""

    def __init__(self, in_dim: int = 32, hidden: int = 32, num_layers: int = 2, dropout: float = 0.0):
        super().__init__()
        if num_layers < 1:
            raise GennapeError(f"MLPHead needs num_layers >= 1, got {num_layers}")
        widths = [in_dim] + [hidden] * (num_layers - 1)
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h).squeeze(-1)


class MembershipWeightedHeads(nn.Module):
    r"""C MLP heads mixed by memberships: (h (B, in_dim), U (B, C)) -> (B,). GENNAPE's MLP-E
    (https://arxiv.org/abs/2211.17226):

    .. math::
        \hat y_i = \sum_{j=1}^{C} U_{ij} f_j(h_i)

    with :math:`f_j` an :class:`MLPHead` and U fuzzy c-means memberships (rows summing to 1)."""

    def __init__(self, in_dim: int = 32, n_heads: int = 4, hidden: int = 32, num_layers: int = 2,
                 dropout: float = 0.0):
        super().__init__()
        self.heads = nn.ModuleList(MLPHead(in_dim, hidden, num_layers, dropout) for _ in range(n_heads))

    def forward(self, h: torch.Tensor, memberships: torch.Tensor) -> torch.Tensor:
        if memberships.shape != (len(h), len(self.heads)):
            raise GennapeError(f"memberships must be (batch, {len(self.heads)}) = ({len(h)}, "
                               f"{len(self.heads)}), got {tuple(memberships.shape)}")
        outputs = torch.stack([head(h) for head in self.heads], dim=1)
        return (memberships.to(outputs.dtype) * outputs).sum(dim=1)


class PairwiseHead(nn.Module):
    r"""P(graph a is better than graph b) from their embeddings, through a per-graph score g
    (RankNet, Burges et al., ICML 2005, https://doi.org/10.1145/1102351.1102363):

    .. math::
        P(a \succ b) = \sigma\big(g(h_a) - g(h_b)\big)

    ``n_heads = 1``: g is one :class:`MLPHead`; ``n_heads > 1``: g is :class:`MembershipWeightedHeads`
    and every call needs the graphs' fuzzy memberships.
    """

    def __init__(self, in_dim: int = 32, n_heads: int = 1, hidden: int = 32, num_layers: int = 2,
                 dropout: float = 0.0):
        super().__init__()
        self.n_heads = n_heads
        self.scorer = (MLPHead(in_dim, hidden, num_layers, dropout) if n_heads == 1
                       else MembershipWeightedHeads(in_dim, n_heads, hidden, num_layers, dropout))

    def score(self, h: torch.Tensor, memberships: torch.Tensor | None = None) -> torch.Tensor:
        """(B,) per-graph score g(h): higher means predicted better."""
        if self.n_heads == 1:
            return self.scorer(h)
        if memberships is None:
            raise GennapeError(f"this PairwiseHead mixes {self.n_heads} heads and needs memberships")
        return self.scorer(h, memberships)

    def logits(self, h_a: torch.Tensor, h_b: torch.Tensor, memberships_a: torch.Tensor | None = None,
               memberships_b: torch.Tensor | None = None) -> torch.Tensor:
        """g(h_a) - g(h_b), the log-odds that a is better (train with ``BCEWithLogitsLoss``)."""
        return self.score(h_a, memberships_a) - self.score(h_b, memberships_b)

    def forward(self, h_a: torch.Tensor, h_b: torch.Tensor, memberships_a: torch.Tensor | None = None,
                memberships_b: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.logits(h_a, h_b, memberships_a, memberships_b))
