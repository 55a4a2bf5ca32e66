"""The training stages: contrastive pre-training of the encoder (GENNAPE Eq. 1), its supervised
tuning on Eq. 5 labels, the regression and pairwise heads on frozen embeddings, and the end-to-end
GNNs. Each returns the trained module (eval mode) and its history; with ``init`` a head or GNN
trains further in place (fine-tuning)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GennapeError
from ..estimator import GNNMember, PairwiseMember, RegressionMember
from ..evaluation.metrics import spearman
from ..graph.compute_graph import ComputeGraph
from ..model import (
    GraphEncoder,
    MLPHead,
    ProjectionHead,
    graphs_to_batch,
    head_inputs,
    mask_ops,
    soft_contrastive_loss,
)
from .config import TrainConfig
from .loop import fit

MIN_PAIR_GAP = 1e-4  # accuracy gap (percent) below which a pair teaches nothing


def pretrain_encoder(graphs: Sequence[ComputeGraph], spectra: np.ndarray, config: TrainConfig, seed: int,
                     val: tuple[Sequence[ComputeGraph], np.ndarray] | None = None) -> tuple[GraphEncoder, dict]:
    """Contrastive pre-training (Eq. 1): two dropout views per graph, a projection head, soft
    positives alpha = softmax(-spectral distance / T). Returns the encoder (eval mode) and history;
    with ``val`` = (graphs, spectra) the epoch with the lowest validation CL loss is kept."""
    torch.manual_seed(seed)
    encoder = GraphEncoder(config.dim, config.num_layers, dropout=config.dropout, features=config.node_features)
    model = nn.ModuleDict({"encoder": encoder, "projection": ProjectionHead(config.dim, config.projection_dim)})
    spectra_t = torch.as_tensor(spectra, dtype=torch.float32)

    def loss_of(gs, s, gs2=None):
        """``gs2``: the second views' graphs (the same cells at other widths); None: ``gs`` again."""
        batch = graphs_to_batch(gs)
        batch2 = batch if gs2 is None else graphs_to_batch(gs2)
        z1 = model["projection"](encoder(mask_ops(batch, config.op_dropout)))
        z2 = model["projection"](encoder(mask_ops(batch2, config.op_dropout)))
        return soft_contrastive_loss(z1, z2, s, config.tau, config.alpha_temperature)

    def batch_loss(idx, rng):
        if len(idx) < 2:
            return None
        second = [graphs[i] for i in idx] if config.cl_width_views else None
        return loss_of([graphs[i] for i in idx], spectra_t[idx], second)

    val_loss = None
    if val is not None:
        val_graphs, val_spectra = val[0], torch.as_tensor(val[1], dtype=torch.float32)

        def val_loss():  # dropout views, with a fixed seed so epochs are comparable
            state = torch.random.get_rng_state()
            torch.manual_seed(seed)
            model.train()
            bs = config.cl_batch_size
            losses = [loss_of(val_graphs[i:i + bs], val_spectra[i:i + bs]).item()
                      for i in range(0, len(val_graphs) - 1, bs) if len(val_graphs[i:i + bs]) >= 2]
            model.eval()
            torch.random.set_rng_state(state)
            return float(np.mean(losses))

    history = fit(model, batch_loss, len(graphs), config.cl_epochs, config.cl_batch_size, config.cl_lr, seed,
                  "CL encoder", val_loss, config.grad_clip)
    return encoder.eval(), history


def tune_encoder(encoder: GraphEncoder, graphs: Sequence[ComputeGraph], y: np.ndarray, config: TrainConfig,
                 seed: int, val: tuple[Sequence[ComputeGraph], np.ndarray] | None = None
                 ) -> tuple[GraphEncoder, dict]:
    """A copy of the CL ``encoder`` fine-tuned end to end, without dropout, with one MLP head
    regressing labels ``y`` (MSE); the head is discarded. ``val`` = (graphs, labels) keeps the best
    epoch. Every head then shares this one encoder, so prediction still embeds each graph once."""
    torch.manual_seed(seed)
    tuned = GraphEncoder(config.dim, config.num_layers, encoder.config["op_dim"], dropout=0.0,
                         features=encoder.config["features"])
    tuned.load_state_dict(encoder.state_dict())
    head = MLPHead(config.dim + int(config.head_flops_input), config.head_hidden, config.head_layers)
    model = nn.ModuleDict({"encoder": tuned, "head": head})
    t = torch.as_tensor(y, dtype=torch.float32)

    def predict(gs, op_dropout=0.0):
        batch = mask_ops(graphs_to_batch(gs), op_dropout)
        return head(head_inputs(tuned(batch), batch.graph_macs, config.head_flops_input))

    def batch_loss(idx, rng):
        return F.mse_loss(predict([graphs[i] for i in idx], config.op_dropout), t[idx])

    val_loss = None
    if val is not None:
        vt = torch.as_tensor(val[1], dtype=torch.float32)

        def val_loss():
            return F.mse_loss(torch.cat([predict(val[0][i:i + 512]) for i in range(0, len(vt), 512)]), vt).item()

    history = fit(model, batch_loss, len(t), config.tune_epochs, config.gnn_batch_size, config.tune_lr, seed,
                  "encoder fine-tuning", val_loss, config.grad_clip, config.averaged_epochs(config.tune_epochs))
    return tuned.eval(), history


def fit_regression_head(embeddings: np.ndarray, y: np.ndarray, memberships: np.ndarray | None = None, *,
                        config: TrainConfig, seed: int, flops_aware: bool,
                        val: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
                        init: RegressionMember | None = None, epochs: int | None = None,
                        name: str = "head") -> tuple[RegressionMember, dict]:
    """MSE regression of labels ``y`` from frozen embeddings (what the head reads: :func:`head_inputs`
    with ``config.head_flops_input``): one MLP, or (with ``memberships``, (N, C)) membership-weighted
    heads. ``val`` = (embeddings, y, memberships) picks the best epoch; ``init``: train this existing
    member further, in place (fine-tuning)."""
    n_heads = 1 if memberships is None else memberships.shape[1]
    torch.manual_seed(seed)
    member = init if init is not None else RegressionMember(flops_aware, n_heads, config.dim, config.head_hidden,
                                                            config.head_layers, config.head_flops_input)
    _check_width(member, embeddings)
    h, t = torch.as_tensor(embeddings, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    u = None if memberships is None else torch.as_tensor(memberships, dtype=torch.float32)

    def predict(h_, u_):
        return member.head(h_) if u_ is None else member.head(h_, u_)

    def batch_loss(idx, rng):
        return F.mse_loss(predict(h[idx], None if u is None else u[idx]), t[idx])

    val_loss = None
    if val is not None:
        vh, vy = torch.as_tensor(val[0], dtype=torch.float32), torch.as_tensor(val[1], dtype=torch.float32)
        vu = None if val[2] is None else torch.as_tensor(val[2], dtype=torch.float32)

        def val_loss():
            return F.mse_loss(predict(vh, vu), vy).item()

    epochs = config.head_epochs if epochs is None else epochs
    history = fit(member, batch_loss, len(t), epochs, config.head_batch_size, config.head_lr, seed, name, val_loss,
                  config.grad_clip, config.averaged_epochs(epochs))
    return member.eval(), history


def _check_width(member: RegressionMember | PairwiseMember, embeddings: np.ndarray) -> None:
    width = member.args["dim"] + int(member.args["flops_input"])
    if np.ndim(embeddings) != 2 or np.shape(embeddings)[1] != width:
        raise GennapeError(f"this head reads {width} columns per graph (embedding"
                           f"{' + log10 GFLOPs' if member.args['flops_input'] else ''}), got embeddings of shape "
                           f"{np.shape(embeddings)}: build them with gennape.estimator.head_inputs")


def fit_pairwise_head(embeddings: np.ndarray, acc: np.ndarray, memberships: np.ndarray | None = None, *,
                      config: TrainConfig, seed: int,
                      val: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
                      init: PairwiseMember | None = None, epochs: int | None = None,
                      name: str = "pairwise head") -> tuple[PairwiseMember, dict]:
    """A "which is better" classifier on frozen embeddings (as :func:`fit_regression_head`). Every
    epoch pairs each graph with a random partner (new pairs each epoch), drops pairs whose
    accuracies (percent) differ by less than 1e-4, and minimises the BCE of P(a beats b). ``val`` =
    (embeddings, accuracies, memberships) keeps the epoch with the best validation Spearman of the
    per-graph score."""
    n_heads = 1 if memberships is None else memberships.shape[1]
    torch.manual_seed(seed)
    member = init if init is not None else PairwiseMember(n_heads, config.dim, config.head_hidden, config.head_layers,
                                                          config.head_flops_input)
    _check_width(member, embeddings)
    h = torch.as_tensor(embeddings, dtype=torch.float32)
    u = None if memberships is None else torch.as_tensor(memberships, dtype=torch.float32)
    acc = np.asarray(acc, dtype=np.float64)

    def score(h_, u_):
        return member.head.score(h_, u_)

    def batch_loss(idx, rng):
        partner = rng.integers(len(acc), size=len(idx))
        keep = np.abs(acc[idx] - acc[partner]) >= MIN_PAIR_GAP
        a, b = idx[keep], partner[keep]
        if len(a) == 0:
            return None
        s = score(h[np.r_[a, b]], None if u is None else u[np.r_[a, b]])
        target = torch.as_tensor(acc[a] > acc[b], dtype=torch.float32)
        return F.binary_cross_entropy_with_logits(s[:len(a)] - s[len(a):], target)

    val_loss = None
    if val is not None:
        vh = torch.as_tensor(val[0], dtype=torch.float32)
        vu = None if val[2] is None else torch.as_tensor(val[2], dtype=torch.float32)

        def val_loss():
            return -spearman(val[1], score(vh, vu).numpy())

    epochs = config.pair_epochs if epochs is None else epochs
    history = fit(member, batch_loss, len(acc), epochs, config.head_batch_size, config.head_lr, seed, name,
                  val_loss, config.grad_clip, config.averaged_epochs(epochs))
    return member.eval(), history


def fit_gnn(graphs: Sequence[ComputeGraph], y: np.ndarray, conv: str = "kgnn", *, config: TrainConfig, seed: int,
            val: tuple[Sequence[ComputeGraph], np.ndarray] | None = None, init: GNNMember | None = None,
            epochs: int | None = None, batch_size: int | None = None, lr: float | None = None
            ) -> tuple[GNNMember, dict]:
    """An end-to-end GNN ("kgnn", "gcn" or "gin") regressing labels ``y`` (MSE) from graphs;
    ``val`` = (graphs, labels) keeps the epoch with the lowest validation MSE."""
    torch.manual_seed(seed)
    member = init if init is not None else GNNMember(conv, config.dim, config.num_layers, config.node_features,
                                                     config.gnn_flops_input)
    t = torch.as_tensor(y, dtype=torch.float32)

    def batch_loss(idx, rng):
        batch = mask_ops(graphs_to_batch([graphs[i] for i in idx]), config.op_dropout)
        return F.mse_loss(member.gnn(batch), t[idx])

    val_loss = None
    if val is not None:
        vt = torch.as_tensor(val[1], dtype=torch.float32)

        def val_loss():
            bs = 512
            pred = torch.cat([member.gnn(graphs_to_batch(val[0][i:i + bs])) for i in range(0, len(vt), bs)])
            return F.mse_loss(pred, vt).item()

    epochs = config.gnn_epochs if epochs is None else epochs
    history = fit(member, batch_loss, len(t), epochs, batch_size or config.gnn_batch_size, lr or config.gnn_lr, seed,
                  f"{conv} GNN", val_loss, config.grad_clip, config.averaged_epochs(epochs))
    return member.eval(), history
