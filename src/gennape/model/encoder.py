"""The graph encoder: node embedding, a k-GNN stack and mean pooling -> one vector per graph.

References: GENNAPE (Mills et al., AAAI 2023, https://arxiv.org/abs/2211.17226); k-GNN / GraphConv
(Morris et al., "Weisfeiler and Leman Go Neural: Higher-order Graph Neural Networks", AAAI 2019,
https://arxiv.org/abs/1810.02244), as PyTorch Geometric's ``GraphConv`` implements it.

As in GENNAPE's code: node vector = [op embedding | Linear(attribute features)], then ``num_layers``
``GraphConv`` layers (Morris et al.'s k-GNN: x_i' = W1 x_i + W2 sum_{j -> i} x_j, messages along the
data flow only) each followed by tanh, then the mean over nodes. The paper's code uses 6 layers of
width 32. ``dropout`` (after the node embedding and after every layer) gives the two stochastic views
of the contrastive loss; it is inactive in eval mode.

The op embedding starts at zero: an op that never occurs in training keeps a zero embedding, so it is
described by its attribute features alone rather than by a random vector. Training masks op embeddings
at random (:func:`mask_ops`, ``TrainConfig.op_dropout``) so that this state is one the encoder has
learnt to read.

``features="gennape"`` is the ablation of that design: the paper's node description only (op
embedding with PyTorch's random initialisation, the six linear shape values, kernel size, bias), so
an op NB-101 lacks (depthwise conv, hardswish, layernorm, ...) is a random, never-trained vector.
The kernel stays a scalar in both variants; none of the labelled families has kernels above 7, so
the paper's cap at 7 would not change any measured number.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import GraphConv, global_mean_pool

from ..errors import GennapeError
from ..graph.compute_graph import ComputeGraph
from .features import FEATURE_SLICES, FEATURE_VERSION, NUM_ATTRIBUTES, NUM_OPS, graphs_to_batch

#: Attribute columns each node-feature variant reads (see the module docstring).
NODE_FEATURES = {
    "attributes": np.arange(NUM_ATTRIBUTES),
    "gennape": np.concatenate([np.arange(NUM_ATTRIBUTES)[FEATURE_SLICES[k]] for k in ("shape", "kernel", "bias")]),
}


class NodeEmbedding(nn.Module):
    r"""(op ids, attribute features) -> ``dim``-wide node vectors: ``op_dim`` columns (default half)
    from the op embedding table, the rest from a linear map of the attribute columns that
    ``features`` (a key of :data:`NODE_FEATURES`) selects:

    .. math::
        h_i^{(0)} = \big[\, k_i E_{\mathrm{op}(i)} \;\Vert\; W a_i + b \,\big]

    with :math:`k_i` the optional op-dropout mask (1 when absent)."""

    def __init__(self, dim: int = 32, op_dim: int | None = None, features: str = "attributes"):
        super().__init__()
        op_dim = dim // 2 if op_dim is None else op_dim
        if not 0 < op_dim < dim:
            raise GennapeError(f"op_dim must lie strictly between 0 and dim={dim}, got {op_dim}")
        if features not in NODE_FEATURES:
            raise GennapeError(f"unknown node features {features!r}; choose one of {', '.join(NODE_FEATURES)}")
        self.features = features
        self.op_embedding = nn.Embedding(NUM_OPS, op_dim)
        if features == "attributes":
            nn.init.zeros_(self.op_embedding.weight)
        self.register_buffer("columns", torch.as_tensor(NODE_FEATURES[features]), persistent=False)
        self.attributes = nn.Linear(len(self.columns), dim - op_dim)

    def forward(self, op: torch.Tensor, x: torch.Tensor, op_keep: torch.Tensor | None = None) -> torch.Tensor:
        """``op_keep``: optional (num_nodes, 1) 0/1 mask; 0 zeroes that node's op embedding (training-time
        op dropout, see :func:`mask_ops`), as for an op that never occurred in training."""
        if self.features != "attributes":
            x = x[:, self.columns]
        ops = self.op_embedding(op)
        return torch.cat([ops if op_keep is None else ops * op_keep, self.attributes(x)], dim=1)


def mask_ops(batch: Batch, rate: float) -> Batch:
    """Op dropout: mark each node's op embedding to be zeroed with probability ``rate`` (torch's RNG)
    in every encoder that reads ``batch``; rate 0 leaves the batch (and the RNG) untouched."""
    if rate > 0:
        batch.op_keep = (torch.rand(batch.num_nodes, 1) >= rate).float()
    return batch


def op_keep(batch: Batch) -> torch.Tensor | None:
    """The batch's op-dropout mask, if :func:`mask_ops` set one."""
    return batch.op_keep if "op_keep" in batch else None


class GraphEncoder(nn.Module):
    r"""Computation graphs -> ``dim``-dimensional embeddings: ``num_layers`` k-GNN layers
    (``GraphConv``, Morris et al., AAAI 2019, https://arxiv.org/abs/1810.02244) with tanh, then the
    mean over nodes, as in GENNAPE (https://arxiv.org/abs/2211.17226):

    .. math::
        h_i^{(t+1)} = \tanh\Big(W_1^{(t)} h_i^{(t)} + W_2^{(t)} \sum_{j \to i} h_j^{(t)} + b^{(t)}\Big),
        \qquad e = \frac{1}{|V|} \sum_{i \in V} h_i^{(L)}

    where :math:`j \to i` runs over the data-flow edges into node i (no reverse edges, no self-loops)
    and :math:`h^{(0)}` is :class:`NodeEmbedding`'s output. Dropout (rate ``dropout``) follows the
    node embedding and every layer."""

    def __init__(self, dim: int = 32, num_layers: int = 6, op_dim: int | None = None, dropout: float = 0.0,
                 features: str = "attributes"):
        super().__init__()
        self.dim = dim
        self.embedding = NodeEmbedding(dim, op_dim, features)
        self.config = {"dim": dim, "num_layers": num_layers, "op_dim": self.embedding.op_embedding.embedding_dim,
                       "dropout": dropout, "features": features, "feature_version": FEATURE_VERSION}
        self.convs = nn.ModuleList(GraphConv(dim, dim, aggr="add") for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)

    def forward(self, batch: Batch) -> torch.Tensor:
        """(num_graphs, dim) embeddings of a batch made by :func:`graphs_to_batch`."""
        h = self.dropout(self.embedding(batch.op, batch.x, op_keep(batch)))
        for conv in self.convs:
            h = self.dropout(conv(h, batch.edge_index).tanh_())
        return global_mean_pool(h, batch.batch, size=batch.num_graphs)

    @torch.no_grad()
    def embed(self, graphs: Sequence[ComputeGraph], batch_size: int = 512) -> np.ndarray:
        """(len(graphs), dim) float32 embeddings, computed in eval mode (no dropout) in batches."""
        was_training = self.training
        self.eval()
        try:
            out = [self(graphs_to_batch(graphs[i:i + batch_size])) for i in range(0, len(graphs), batch_size)]
        finally:
            self.train(was_training)
        return torch.cat(out).numpy() if out else np.zeros((0, self.dim), dtype=np.float32)
