"""End-to-end GNN regressors: the k-GNN of GENNAPE's ensemble and the GCN / GIN baselines.

.. math::
    h_v^{(l+1)} = \\tanh\\big(W_1 h_v^{(l)} + W_2 \\textstyle\\sum_{u \\in N(v)} h_u^{(l)}\\big), \\quad
    \\hat y = \\mathrm{MLP}\\big(\\tfrac{1}{|V|} \\textstyle\\sum_v h_v^{(L)}\\big)

(the k-GNN / ``GraphConv`` of Morris et al., AAAI 2019, https://arxiv.org/abs/1810.02244, with
GENNAPE's ``post_proj`` readout; GCN: Kipf & Welling 2017; GIN: Xu et al. 2019).
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import GCNConv, GINConv, GraphConv, global_mean_pool

from ..errors import GennapeError
from .encoder import NodeEmbedding, op_keep
from .readout import head_inputs


class GNNRegressor(nn.Module):
    """End-to-end GNN: node embedding, ``num_layers`` convolutions with tanh, mean pooling, then the
    paper's ``post_proj`` MLP and a linear regressor -> (B,) labels. ``conv``: "kgnn" (``GraphConv``,
    sum over in-edges), "gcn" (``GCNConv``) or "gin" (``GINConv`` with two linear layers). With
    ``flops_input`` the MLP also reads the graph's log10 GFLOPs (:func:`head_inputs`)."""

    CONVS = ("kgnn", "gcn", "gin")

    def __init__(self, conv: str = "kgnn", dim: int = 32, num_layers: int = 6, features: str = "attributes",
                 flops_input: bool = False):
        super().__init__()
        if conv not in self.CONVS:
            raise GennapeError(f"unknown GNN convolution {conv!r}; choose one of {', '.join(self.CONVS)}")
        self.flops_input = flops_input
        self.embedding = NodeEmbedding(dim, features=features)
        self.convs = nn.ModuleList(_conv(conv, dim) for _ in range(num_layers))
        self.post = nn.Sequential(nn.Linear(dim + int(flops_input), dim), nn.Linear(dim, dim), nn.ReLU(),
                                  nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, 1))

    def forward(self, batch: Batch) -> torch.Tensor:
        h = self.embedding(batch.op, batch.x, op_keep(batch))
        for conv in self.convs:
            h = conv(h, batch.edge_index).tanh()
        pooled = global_mean_pool(h, batch.batch, size=batch.num_graphs)
        return self.post(head_inputs(pooled, batch.graph_macs, self.flops_input)).squeeze(-1)


def _conv(kind: str, dim: int) -> nn.Module:
    if kind == "kgnn":
        return GraphConv(dim, dim, aggr="add")
    if kind == "gcn":
        return GCNConv(dim, dim)
    return GINConv(nn.Sequential(nn.Linear(dim, dim), nn.Linear(dim, dim)))
