"""The GENNAPE accuracy estimator: one shared graph encoder (contrastively pre-trained, then tuned
on NB-101 Eq. 5 labels: see :mod:`gennape.train`), fuzzy C-means centres in its embedding space,
and the ensemble members, which score graphs from one shared encoder forward per batch.

Members (paper names; the first six form the GENNAPE ensemble):

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

**Common scale.** Members score in different units, so each member's scores are first put on a
common scale, then averaged with the ensemble weights (equal zero-shot; after
:meth:`Estimator.fine_tune`, softmax of each member's Kendall tau on the fine-tuning samples).
``common_scale="rank"`` (the default, GENNAPE's inferred rule): each member's scores become
normalised ranks within the graphs of one call, (rank - 0.5) / n in (0, 1), so every member has the
same influence on every family; scores therefore compare graphs *within* one call only.
``common_scale="nb101"``: z-scores w.r.t. the member's scores on the NB-101 validation-1 graphs (stored
in the JSON), defined for a single graph, but equal influence holds only on NB-101: on a family
whose inverse-Eq. 5 accuracies spread much wider than NB-101's (OFA), the Eq. 5 members dominate.
Either way the ensemble score ranks (higher is better); it is not an accuracy.

**FLOPs centring.** The heads read each graph's log10 GFLOPs, and the Eq. 5 members' outputs go
through the inverse of Eq. 5 at the graph's FLOPs; both were fitted on NB-101 (median 0.79 GFLOPs),
where cost weighs far more for cheap cells than for dear ones, so a family's absolute cost level
decides how much its ranking follows cost rather than the embedding (docs/transfer.md). With
``flops_centre`` set (log10 GFLOPs: the NB-101 training cells' median), an estimator reads every
graph's FLOPs scaled by one factor per call, 10 ** shift, with shift = ``flops_centre`` - the
median log10 GFLOPs of the call's graphs (decades): relative cost within the call is kept, the
family's absolute cost level is not read. Both the heads' column and the
inverse read the scaled FLOPs (:attr:`SharedInputs.read_macs`); shifting only the column turned
the Eq. 5 members' ranking upside down on other families (docs/transfer.md, "width check"). Fine-tuning fixes
the shift to that of its samples (:attr:`Estimator.flops_shift`), so a fine-tuned estimator scores
single graphs as it scores a family. The FLOPs member and the end-to-end GNNs read the true FLOPs.

**Live graphs.** Every member, the FLOPs member included, reads the live part of each graph
(:func:`gennape.graph.live.live_graph`): computation that reaches the output only through ``zero``
ops (``none`` edges) is dropped, as it does not change what the network computes. Graphs without
zero ops, NB-101's among them, are read as they are. A network with nothing live computes a
constant, so it classifies at chance: every member puts it last, the accuracy members at chance
accuracy (100 / the output's channels, percent), the others at -inf; it takes no part in the
call's FLOPs centring or in fine-tuning the heads. What a data set pays a constant classifier can
differ from 100 / C (the majority class's share on Taskonomy's class_object, 26.55 %), so when the
fine-tuning samples include constant networks, the fine-tuned accuracy members predict every
constant network at their mean label instead (:attr:`Estimator.constant_accuracy`).

**Accuracy.** :meth:`Estimator.predict_accuracy` is CL+FCM+T's output through the inverse of Eq. 5
with NB-101 training statistics: it is calibrated to NB-101 (CIFAR-10, 108 epochs) and is a rough
absolute estimate elsewhere until fine-tuned on the target family.

Files: ``estimator.safetensors`` (every tensor) and ``estimator.json`` (everything else).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import GCNConv, GINConv, GraphConv, global_mean_pool

from .errors import GennapeError
from .graph import VOCAB_VERSION
from .graph.compute_graph import ComputeGraph
from .graph.live import live_graph
from .graph.ops import OP_INDEX
from .model import (
    FEATURE_VERSION,
    FlopsAwareTransform,
    FuzzyCMeans,
    GraphEncoder,
    MembershipWeightedHeads,
    MLPHead,
    NodeEmbedding,
    PairwiseHead,
    graphs_to_batch,
    op_keep,
)

FORMAT_VERSION = 1
COMMON_SCALES = ("rank", "nb101")
ENSEMBLE = ("cl_fcm_t", "cl_t", "cl_pairwise_fcm", "cl_pairwise", "kgnn", "flops")
CALIBRATED_MEMBER = "cl_fcm_t"
WEIGHTS_DIR = Path(__file__).parent / "weights"
#: graphs are scored in chunks of at most this many nodes, so huge graphs do not exhaust memory
MAX_CHUNK_NODES = 250_000


@dataclass
class SharedInputs:
    """What every member of one batch reads: the features, CL embeddings, FCM memberships, MACs."""
    batch: Batch
    embeddings: torch.Tensor
    memberships: torch.Tensor
    flops_shift: float = 0.0  # decades (FLOPs centring, module docstring)

    @property
    def macs(self) -> torch.Tensor:
        """(B,) float64 total MACs of each graph."""
        return self.batch.graph_macs

    @property
    def read_macs(self) -> torch.Tensor:
        """(B,) float64 MACs as the heads and the inverse of Eq. 5 read them: ``macs`` x 10 ** ``flops_shift``."""
        return self.macs * 10.0 ** self.flops_shift if self.flops_shift else self.macs


def log10_gflops(macs) -> np.ndarray:
    """log10 of GFLOPs (MACs / 1e9, at least 1 MAC): the unit of the heads' FLOPs column."""
    return np.log10(np.maximum(np.asarray(macs, dtype=np.float64), 1.0)) - 9.0


def head_inputs(embeddings: torch.Tensor, macs: torch.Tensor, flops_input: bool) -> torch.Tensor:
    """What a readout MLP reads: the (B, dim) mean-pooled embeddings and, with ``flops_input``, each
    graph's log10 GFLOPs as one more column. A mean over nodes cannot tell a graph's total cost, on
    which Eq. 5 labels (and accuracy) depend; the column states it instead of leaving it to a guess.
    The column is :func:`log10_gflops` computed in the embeddings' dtype (float32), as the shipped
    heads were trained; the float64 function serves the FLOPs centre, so they stay two expressions."""
    if not flops_input:
        return embeddings
    log_gflops = torch.log10(macs.to(embeddings.dtype).clamp(min=1.0)) - 9.0
    return torch.cat([embeddings, log_gflops[:, None]], dim=1)


class GNNRegressor(nn.Module):
    """End-to-end GNN: node embedding, ``num_layers`` convolutions with tanh, mean pooling, then the
    paper's ``post_proj`` MLP and a linear regressor -> (B,). ``conv``: "kgnn" (``GraphConv``, sum
    over in-edges), "gcn" (``GCNConv``) or "gin" (``GINConv`` with two linear layers). With
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


_MEMBER_KINDS = {"regression": RegressionMember, "pairwise": PairwiseMember, "gnn": GNNMember,
                 "flops": FlopsMember}


def member_from_spec(spec: dict) -> Member:
    args = dict(spec)
    kind = args.pop("kind", None)
    if kind not in _MEMBER_KINDS:
        raise GennapeError(f"unknown estimator member kind {kind!r} in {spec!r}")
    return _MEMBER_KINDS[kind](**args)


class Estimator:
    """Scores computation graphs; see the module docstring for the members and the common scale.

    ``transform``: Eq. 5 with NB-101 training statistics. ``accuracy_stats``: (mean, std) in percent
    of NB-101 training accuracies, the scale of the members that regress raw accuracy. ``scales``:
    member -> (mean, std) of its scores on NB-101 validation-1. ``weights``: ensemble member -> weight.
    ``common_scale``: how member scores are made comparable, "rank" or "nb101" (module docstring).
    ``flops_centre``: log10 GFLOPs every call's median is read at (FLOPs centring, module docstring);
    None reads FLOPs as they are. ``flops_shift``: decades, fixed by :meth:`fine_tune`; None: per call.
    ``constant_accuracy``: percent the accuracy members predict for a network that computes a constant,
    set by :meth:`fine_tune` from such samples; None: chance, 100 / the output's channels.
    """

    def __init__(self, encoder: GraphEncoder, fcm: FuzzyCMeans, transform: FlopsAwareTransform,
                 accuracy_stats: tuple[float, float], members: dict[str, Member],
                 scales: dict[str, tuple[float, float]] | None = None, weights: dict[str, float] | None = None,
                 info: dict | None = None, common_scale: str = "rank", flops_centre: float | None = None,
                 flops_shift: float | None = None, constant_accuracy: float | None = None):
        if common_scale not in COMMON_SCALES:
            raise GennapeError(f"unknown common scale {common_scale!r}; choose one of {', '.join(COMMON_SCALES)}")
        self.common_scale = common_scale
        self.encoder = encoder.eval()
        self.fcm = fcm
        self.transform = transform
        self.accuracy_stats = (float(accuracy_stats[0]), float(accuracy_stats[1]))
        self.members = {name: m.eval() for name, m in members.items()}
        self.scales = dict(scales or {})
        if weights is None:
            weights = {name: 1.0 for name in ENSEMBLE if name in self.members}
        self.weights = {name: float(w) for name, w in weights.items()}
        self.info = dict(info or {})
        self.flops_centre = None if flops_centre is None else float(flops_centre)
        self.flops_shift = None if flops_shift is None else float(flops_shift)
        self.constant_accuracy = None if constant_accuracy is None else float(constant_accuracy)

    # --- prediction ----------------------------------------------------------------------------
    def predict(self, graphs: Sequence[ComputeGraph], member: str | None = None) -> np.ndarray:
        """(len(graphs),) float64 scores, higher = better: the weighted ensemble of the members'
        scores on the common scale, or one ``member``'s score in its own unit (module docstring; -inf
        for a network that computes a constant, where the unit is not an accuracy)."""
        if member is not None:
            return self.member_scores(graphs, [member])[member]
        return self.combine(self.member_scores(graphs, list(self.weights)))

    def combine(self, scores: dict[str, np.ndarray], common_scale: str | None = None) -> np.ndarray:
        """The ensemble score from ``scores`` ({member: scores of the same graphs}, every weighted
        member included), on ``common_scale`` (default: this estimator's)."""
        scale = common_scale or self.common_scale
        total = sum(self.weights.values())
        ensemble = np.zeros(len(next(iter(scores.values()))))
        for name, w in self.weights.items():
            s = np.asarray(scores[name], dtype=np.float64)
            ensemble += w / total * (_normalised_ranks(s) if scale == "rank" else self.standardise(name, s))
        return ensemble

    def predict_accuracy(self, graphs: Sequence[ComputeGraph]) -> np.ndarray:
        """Accuracy estimates in percent from CL+FCM+T through the inverse of Eq. 5 (NB-101-calibrated)."""
        return self.member_scores(graphs, [CALIBRATED_MEMBER])[CALIBRATED_MEMBER]

    def standardise(self, member: str, scores: np.ndarray) -> np.ndarray:
        """A member's scores as z-scores w.r.t. its NB-101 validation-1 scores."""
        mean, std = self.scales.get(member, (0.0, 1.0))
        return (np.asarray(scores, dtype=np.float64) - mean) / std

    @torch.no_grad()
    def member_scores(self, graphs: Sequence[ComputeGraph], names: Sequence[str]) -> dict[str, np.ndarray]:
        """{member: (len(graphs),) float64 scores} with one encoder forward per chunk of graphs."""
        unknown = [n for n in names if n not in self.members]
        if unknown:
            raise GennapeError(f"unknown estimator member(s) {', '.join(unknown)}; this estimator has "
                               f"{', '.join(self.members)}")
        lives, varying = _live_parts(graphs)
        parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
        shift = self.shift_of(lives)  # one shift for the whole call, not per chunk
        for chunk in _chunks(lives):
            inputs = self.shared_inputs(chunk, shift)
            for name in names:
                parts[name].append(self._score(name, self.members[name](inputs), inputs.read_macs))
        out = {}
        for name in names:
            scores = self._constant_output_scores(name, graphs, ~varying)
            if parts[name]:
                scores[varying] = np.concatenate(parts[name])
            out[name] = scores
        return out

    def _constant_output_scores(self, name: str, graphs: Sequence[ComputeGraph], which: np.ndarray) -> np.ndarray:
        """Member ``name``'s scores with the networks ``which`` (outputs independent of the input) set
        by rule: chance accuracy, or :attr:`constant_accuracy` once fine-tuned, for an accuracy member;
        -inf for a score member. The rest are left at 0."""
        scores = np.zeros(len(graphs))
        if self.members[name].target == "score":
            scores[which] = -np.inf
        elif self.constant_accuracy is not None:
            scores[which] = self.constant_accuracy
        else:
            scores[which] = [_chance_accuracy(graphs[i]) for i in np.flatnonzero(which)]
        return scores

    def shift_of(self, graphs: Sequence[ComputeGraph]) -> float:
        """Decades by which the heads and Eq. 5 read the FLOPs of ``graphs`` scaled (module docstring)."""
        if self.flops_centre is None or not len(graphs):
            return 0.0
        if self.flops_shift is not None:
            return self.flops_shift
        return self.flops_centre - float(np.median(log10_gflops([g.flops for g in graphs])))

    def shared_inputs(self, graphs: Sequence[ComputeGraph], shift: float | None = None) -> SharedInputs:
        """What every member reads for ``graphs``; ``shift``: FLOPs centring's (default :meth:`shift_of`)."""
        batch = graphs_to_batch(graphs)
        h = self.encoder(batch)
        u = torch.from_numpy(self.fcm.memberships(h.detach().numpy()).astype(np.float32))
        return SharedInputs(batch, h, u, self.shift_of(graphs) if shift is None else shift)

    def _score(self, name: str, out: torch.Tensor, read_macs: torch.Tensor) -> np.ndarray:
        out = out.detach().to(torch.float64).numpy()
        target = self.members[name].target
        if target == "eq5":
            return self.transform.inverse(out, read_macs.numpy())
        if target == "accuracy":
            return out * self.accuracy_stats[1] + self.accuracy_stats[0]
        return out

    def labels(self, member: str, acc_percent: np.ndarray, macs: np.ndarray) -> np.ndarray:
        """Accuracies (percent) -> the label space ``member`` regresses (inverse of :meth:`_score`);
        ``macs`` as the members read them (:attr:`SharedInputs.read_macs`)."""
        target = self.members[member].target
        acc = np.asarray(acc_percent, dtype=np.float64)
        if target == "eq5":
            return self.transform.transform(acc, np.asarray(macs, dtype=np.float64))
        if target == "accuracy":
            return (acc - self.accuracy_stats[0]) / self.accuracy_stats[1]
        raise GennapeError(f"member {member!r} is not a regressor")

    # --- fine-tuning ---------------------------------------------------------------------------
    def fine_tune(self, graphs: Sequence[ComputeGraph], accuracies_percent, epochs: int = 100,
                  seed: int = 0, members: Sequence[str] | None = None) -> Estimator:
        """A NEW estimator fine-tuned on a few labelled graphs of a target family (this one is left
        untouched). The CL encoder and FCM centres stay frozen (their embeddings define the clusters,
        and 50 samples would overfit them); every head is trained ``epochs`` epochs, ending at the
        last (``gennape.train.FINE_TUNE``), on the frozen embeddings (Eq. 5 with NB-101 statistics
        for the T members, pairs of the samples for the pairwise members); the k-GNN is fine-tuned
        end to end. Regressors first move onto the samples' mean label
        (``gennape.train.recentre_output``). Ensemble weights become the softmax of
        each member's Kendall tau on the samples (a NaN tau, from a constant score, counts as 0).
        Under FLOPs centring the shift is fixed to the samples' (module docstring). Samples that
        compute a constant train no head; their mean label becomes :attr:`constant_accuracy`
        (module docstring, "Live graphs").
        ``members``: fine-tune and keep only these (default: all), say the ensemble's to save time."""
        from .metrics import kendall_tau  # scipy.stats: 1 s to import, needed only here
        from .train import fine_tune_members  # train builds on this module

        acc = np.asarray(accuracies_percent, dtype=np.float64).ravel()
        if len(acc) != len(graphs) or len(acc) < 2 or not np.isfinite(acc).all():
            raise GennapeError(f"fine_tune needs at least 2 graphs with one finite accuracy each; got "
                               f"{len(graphs)} graphs and {len(acc)} accuracies")
        lives, varying = _live_parts(graphs)  # the constant-output networks are ranked by rule
        if len(lives) < 2:
            raise GennapeError(f"fine_tune needs at least 2 networks whose output depends on their input; "
                               f"{len(graphs) - len(lives)} of the {len(graphs)} compute a constant")
        tuned = copy.deepcopy(self)
        if not varying.all():
            tuned.constant_accuracy = float(acc[~varying].mean())
        if tuned.flops_centre is not None:
            tuned.flops_shift = self.shift_of(lives)
        if members is not None:
            unknown = sorted(set(members) - set(self.members))
            missing = sorted(set(self.weights) - set(members))
            if unknown or missing:
                raise GennapeError(f"cannot fine-tune members {list(members)}: " + (
                    f"unknown {unknown} (this estimator has {list(self.members)})" if unknown
                    else f"the ensemble also needs {missing}"))
            tuned.members = {n: m for n, m in tuned.members.items() if n in members}
        fine_tune_members(tuned, lives, acc[varying], epochs=epochs, seed=seed)
        for m in tuned.members.values():
            m.eval()
        scores = tuned.member_scores(graphs, list(tuned.weights))
        taus = np.array([kendall_tau(acc, scores[n]) for n in tuned.weights])
        taus = np.nan_to_num(taus, nan=0.0)
        soft = np.exp(taus - taus.max())
        tuned.weights = {n: float(w) for n, w in zip(tuned.weights, soft / soft.sum())}
        tuned.info = {**self.info, "fine_tuned": {"samples": len(acc), "epochs": epochs, "seed": seed,
                                                  "kendall_tau": dict(zip(tuned.weights, taus.tolist()))}}
        return tuned

    # --- files ---------------------------------------------------------------------------------
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``estimator.safetensors`` and ``estimator.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items()}
        for name, m in self.members.items():
            tensors.update({f"members.{name}.{k}": v for k, v in m.state_dict().items()})
        save_file({k: v.detach().contiguous().clone() for k, v in tensors.items()},
                  directory / "estimator.safetensors")
        meta = {"format_version": FORMAT_VERSION, "feature_version": FEATURE_VERSION,
                "vocab_version": VOCAB_VERSION, "encoder": self.encoder.config,
                "fcm": {"m": self.fcm.m, "centers": np.asarray(self.fcm.centers_).tolist()},
                "label_transform": self.transform.to_dict(),
                "accuracy_stats": {"mean": self.accuracy_stats[0], "std": self.accuracy_stats[1]},
                "members": {name: m.spec() for name, m in self.members.items()},
                "scales": {name: {"mean": s[0], "std": s[1]} for name, s in self.scales.items()},
                "weights": self.weights, "common_scale": self.common_scale,
                "flops_centring": {"centre": self.flops_centre, "shift": self.flops_shift},
                "constant_accuracy": self.constant_accuracy, "info": self.info}
        (directory / "estimator.json").write_text(json.dumps(meta, indent=1))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike = WEIGHTS_DIR) -> Estimator:
        """Read an estimator written by :meth:`save`."""
        directory = Path(directory)
        meta_path, tensor_path = directory / "estimator.json", directory / "estimator.safetensors"
        if not (meta_path.is_file() and tensor_path.is_file()):
            raise GennapeError(f"{directory} lacks estimator.json or estimator.safetensors")
        try:
            meta = json.loads(meta_path.read_text())
            versions = (meta["format_version"], meta["feature_version"], meta["vocab_version"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise GennapeError(f"{meta_path} is not an estimator description: {e!r}") from None
        if versions != (FORMAT_VERSION, FEATURE_VERSION, VOCAB_VERSION):
            raise GennapeError(f"{meta_path} was written for (format, feature, vocabulary) versions {versions}; "
                               f"this gennape uses {(FORMAT_VERSION, FEATURE_VERSION, VOCAB_VERSION)}")
        tensors = load_file(tensor_path)
        enc_cfg = {k: v for k, v in meta["encoder"].items() if k != "feature_version"}
        encoder = GraphEncoder(**enc_cfg)
        encoder.load_state_dict(_prefixed(tensors, "encoder."))
        members = {}
        for name, spec in meta["members"].items():
            members[name] = member_from_spec(spec)
            members[name].load_state_dict(_prefixed(tensors, f"members.{name}."))
        centring = meta.get("flops_centring", {})  # files from before FLOPs centring read FLOPs as they are
        return cls(encoder, FuzzyCMeans.from_centers(np.array(meta["fcm"]["centers"]), m=meta["fcm"]["m"]),
                   FlopsAwareTransform.from_dict(meta["label_transform"]),
                   (meta["accuracy_stats"]["mean"], meta["accuracy_stats"]["std"]), members,
                   {n: (s["mean"], s["std"]) for n, s in meta["scales"].items()}, meta["weights"], meta["info"],
                   meta.get("common_scale", "nb101"),  # files from before the rank scale used z-scores
                   centring.get("centre"), centring.get("shift"), meta.get("constant_accuracy"))


def load_pretrained() -> Estimator:
    """The estimator shipped with gennape (trained on NB-101; see ``weights/estimator.json``)."""
    return Estimator.load(WEIGHTS_DIR)


def _live_parts(graphs: Sequence[ComputeGraph]) -> tuple[list[ComputeGraph], np.ndarray]:
    """(the live graphs of the networks whose output depends on their input, in order; a boolean mask of
    those networks among ``graphs``). The others compute a constant (module docstring, "Live graphs")."""
    lives = [live_graph(g) for g in graphs]
    return [g for g in lives if g is not None], np.array([g is not None for g in lives], dtype=bool)


def _chance_accuracy(graph: ComputeGraph) -> float:
    """Percent: the accuracy of a constant classifier over the classes of ``graph``'s first output
    (its channels; at least 2)."""
    output = np.flatnonzero(graph.op_ids == OP_INDEX["output"])
    classes = graph.shapes[output[0], 5] if len(output) else 0
    return 100.0 / max(int(classes), 2)


def _normalised_ranks(scores: np.ndarray) -> np.ndarray:
    """(rank - 0.5) / n with ties sharing their mean rank: in (0, 1), 0.5 for a single graph."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    first = np.r_[True, sorted_scores[1:] != sorted_scores[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(scores)]
    ranks = np.empty(len(scores))
    ranks[order] = ((starts + ends + 1) / 2.0)[group]  # mean of the 1-based ranks starts+1 .. ends
    return (ranks - 0.5) / max(len(scores), 1)


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _chunks(graphs: Sequence[ComputeGraph]):
    """Consecutive runs of graphs with at most MAX_CHUNK_NODES nodes in all (at least one graph)."""
    start, nodes = 0, 0
    for i, g in enumerate(graphs):
        if i > start and nodes + g.num_nodes > MAX_CHUNK_NODES:
            yield graphs[start:i]
            start, nodes = i, 0
        nodes += g.num_nodes
    if start < len(graphs):
        yield graphs[start:]
