"""The ensemble members and their registry: each reads one batch's :class:`SharedInputs` (one
encoder forward serves them all) and outputs its label space.

=================  ================================================================  ==============
member             model                                                             score unit
=================  ================================================================  ==============
cl_fcm_t           C membership-weighted MLP heads on the embeddings, Eq. 5 labels   accuracy (%)
cl_t               one MLP head on the embeddings, Eq. 5 labels                      accuracy (%)
cl_pairwise_fcm    pairwise "a beats b" classifier, membership-weighted scorer       log-odds score
cl_pairwise        pairwise classifier, one MLP scorer                               log-odds score
kgnn               end-to-end k-GNN (own node embedding, 6 GraphConv), raw accuracy  accuracy (%)
flops              log10(1 + MACs)                                                   log FLOPs
cl_fcm, cl         as cl_fcm_t / cl_t but regressing standardised raw accuracy       accuracy (%)
=================  ================================================================  ==============

The first six form the GENNAPE ensemble (:data:`ENSEMBLE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.data import Batch

from ..errors import GennapeError
from ..model import GNNRegressor, MembershipWeightedHeads, MLPHead, PairwiseHead, head_inputs
from ..registry import Registry

ENSEMBLE = ("cl_fcm_t", "cl_t", "cl_pairwise_fcm", "cl_pairwise", "kgnn", "flops")
#: the member whose output is the estimator's accuracy estimate
CALIBRATED_MEMBER = "cl_fcm_t"


@dataclass
class SharedInputs:
    """What every member of one batch reads: the features, CL embeddings (B, dim), FCM memberships
    (B, clusters), MACs."""
    batch: Batch
    embeddings: torch.Tensor
    memberships: torch.Tensor
    flops_shift: float = 0.0  # decades (FLOPs centring: gennape.estimator.scoring)

    @property
    def macs(self) -> torch.Tensor:
        """(B,) float64 total MACs of each graph."""
        return self.batch.graph_macs

    @property
    def read_macs(self) -> torch.Tensor:
        """(B,) float64 MACs as the heads and the inverse of Eq. 5 read them: ``macs`` x 10 ** ``flops_shift``."""
        return self.macs * 10.0 ** self.flops_shift if self.flops_shift else self.macs


class Member(nn.Module):
    """One ensemble member. ``forward`` gives its output in label space; ``target`` says how that
    becomes a score: "eq5" (inverse Eq. 5 -> accuracy %), "accuracy" (inverse z-score -> %),
    "score" (used as is)."""

    target = "score"

    def spec(self) -> dict:
        """Constructor arguments, for the JSON file."""
        raise NotImplementedError

    def forward(self, inputs: SharedInputs) -> torch.Tensor:
        raise NotImplementedError


class RegressionMember(Member):
    """One MLP (``n_heads`` = 1) or membership-weighted MLP heads on CL embeddings (see :func:`head_inputs`)."""

    def __init__(self, flops_aware: bool, n_heads: int, dim: int = 32, hidden: int = 32, num_layers: int = 3,
                 flops_input: bool = False):
        super().__init__()
        self.target = "eq5" if flops_aware else "accuracy"
        self.args = {"flops_aware": flops_aware, "n_heads": n_heads, "dim": dim, "hidden": hidden,
                     "num_layers": num_layers, "flops_input": flops_input}
        in_dim = dim + int(flops_input)
        self.head = (MLPHead(in_dim, hidden, num_layers) if n_heads == 1
                     else MembershipWeightedHeads(in_dim, n_heads, hidden, num_layers))

    def spec(self) -> dict:
        return {"kind": "regression", **self.args}

    def forward(self, inputs: SharedInputs) -> torch.Tensor:
        h = head_inputs(inputs.embeddings, inputs.read_macs, self.args["flops_input"])
        return self.head(h) if self.args["n_heads"] == 1 else self.head(h, inputs.memberships)


class PairwiseMember(Member):
    """A pairwise classifier; its per-graph score g (P(a beats b) = sigmoid(g_a - g_b)) ranks graphs."""

    def __init__(self, n_heads: int, dim: int = 32, hidden: int = 32, num_layers: int = 3, flops_input: bool = False):
        super().__init__()
        self.args = {"n_heads": n_heads, "dim": dim, "hidden": hidden, "num_layers": num_layers,
                     "flops_input": flops_input}
        self.head = PairwiseHead(dim + int(flops_input), n_heads, hidden, num_layers)

    def spec(self) -> dict:
        return {"kind": "pairwise", **self.args}

    def forward(self, inputs: SharedInputs) -> torch.Tensor:
        h = head_inputs(inputs.embeddings, inputs.read_macs, self.args["flops_input"])
        return self.head.score(h, inputs.memberships if self.args["n_heads"] > 1 else None)


class GNNMember(Member):
    """An end-to-end GNN regressing standardised raw accuracy from the node features."""

    target = "accuracy"

    def __init__(self, conv: str = "kgnn", dim: int = 32, num_layers: int = 6, features: str = "attributes",
                 flops_input: bool = False):
        super().__init__()
        self.args = {"conv": conv, "dim": dim, "num_layers": num_layers, "features": features,
                     "flops_input": flops_input}
        self.gnn = GNNRegressor(conv, dim, num_layers, features, flops_input)

    def spec(self) -> dict:
        return {"kind": "gnn", **self.args}

    def forward(self, inputs: SharedInputs) -> torch.Tensor:
        return self.gnn(inputs.batch)


class FlopsMember(Member):
    """FLOPs as a predictor, on a log scale so that a 600 px network does not swamp the ensemble."""

    def spec(self) -> dict:
        return {"kind": "flops"}

    def forward(self, inputs: SharedInputs) -> torch.Tensor:
        return torch.log10(1.0 + inputs.macs)


#: member kind (the "kind" of a member's spec in estimator.json) -> its class
MEMBER_KINDS: Registry[type[Member]] = Registry("estimator member kind")
for _kind, _cls in (("regression", RegressionMember), ("pairwise", PairwiseMember), ("gnn", GNNMember),
                    ("flops", FlopsMember)):
    MEMBER_KINDS.register(_kind, _cls)


def member_from_spec(spec: dict) -> Member:
    """The (untrained) member a spec from :meth:`Member.spec` describes."""
    args = dict(spec)
    kind = args.pop("kind", None)
    if kind not in MEMBER_KINDS:
        raise GennapeError(f"unknown estimator member kind {kind!r} in {spec!r}")
    return MEMBER_KINDS.get(kind)(**args)
