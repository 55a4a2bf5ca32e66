"""Fine-tuning a trained estimator on a few labelled networks of a target family (GENNAPE's
50-shot setting): the encoder and FCM centres stay frozen, every head and the k-GNN train further,
and the ensemble weights follow each member's Kendall tau on the samples. Why each step:
docs/decisions.md, "Fine-tuning"."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..errors import GennapeError
from ..estimator import Estimator, GNNMember, PairwiseMember, RegressionMember, SharedInputs, head_inputs
from ..estimator.scoring import check_graphs, live_parts
from ..evaluation.metrics import kendall_tau
from ..graph.compute_graph import ComputeGraph
from .config import FineTuneConfig
from .labels import check_labels
from .stages import fit_gnn, fit_pairwise_head, fit_regression_head


def fine_tune(est: Estimator, graphs: Sequence[ComputeGraph], accuracies_percent, config: FineTuneConfig,
              members: Sequence[str] | None = None) -> Estimator:
    """A NEW estimator: ``est`` fine-tuned on labelled ``graphs`` (accuracies in percent); ``est`` is left
    untouched. Every head trains ``config.epochs`` epochs on the frozen embeddings (Eq. 5 with NB-101
    statistics for the T members, pairs of the samples for the pairwise members), the k-GNN end to
    end; regressors first move onto the samples' mean label (``config.recentre``). The ensemble
    weights become the softmax of each member's Kendall tau on the samples (a NaN tau, from a constant
    score, counts as 0). Under FLOPs centring the shift is fixed to the samples'. Samples that compute
    a constant train no head; their mean label becomes ``constant_accuracy``.
    ``members``: fine-tune and keep only these (default: all), say the ensemble's to save time.
    The labels are checked first (:func:`.labels.check_labels`: percentages in [0, 100], not
    fractions, not all equal, one per graph; :class:`~gennape.errors.LabelError` otherwise)."""
    graphs = check_graphs(graphs)
    acc = check_labels(graphs, accuracies_percent)
    lives, varying = live_parts(graphs)  # the constant-output networks are ranked by rule
    if len(lives) < 2:
        raise GennapeError(f"fine_tune needs at least 2 networks whose output depends on their input; "
                           f"{len(graphs) - len(lives)} of the {len(graphs)} compute a constant")
    tuned = copy.deepcopy(est)
    if not varying.all():
        tuned.constant_accuracy = float(acc[~varying].mean())
    if tuned.flops_centre is not None:
        tuned.flops_shift = est.shift_of(lives)
    if members is not None:
        unknown = sorted(set(members) - set(est.members))
        missing = sorted(set(est.weights) - set(members))
        if unknown or missing:
            raise GennapeError(f"cannot fine-tune members {list(members)}: " + (
                f"unknown {unknown} (this estimator has {list(est.members)})" if unknown
                else f"the ensemble also needs {missing}"))
        tuned.members = {n: m for n, m in tuned.members.items() if n in members}
    fine_tune_members(tuned, lives, acc[varying], config)
    for m in tuned.members.values():
        m.eval()
    scores = tuned.member_scores(graphs, list(tuned.weights))
    taus = np.array([kendall_tau(acc, scores[n]) for n in tuned.weights])
    taus = np.nan_to_num(taus, nan=0.0)
    soft = np.exp(taus - taus.max())
    tuned.weights = {n: float(w) for n, w in zip(tuned.weights, soft / soft.sum())}
    tuned.info = {**est.info, "fine_tuned": {"samples": len(acc), "epochs": config.epochs, "seed": config.seed,
                                             "kendall_tau": dict(zip(tuned.weights, taus.tolist()))}}
    return tuned


def fine_tune_members(est: Estimator, graphs: list[ComputeGraph], acc: np.ndarray, config: FineTuneConfig) -> None:
    """Fine-tune ``est``'s members in place on labelled graphs (percent), the encoder frozen; no
    validation: each member ends at its last epoch."""
    stage = config.stage_config()
    with torch.no_grad():
        inputs = est.shared_inputs(graphs)
    u, macs = inputs.memberships.numpy(), inputs.read_macs.numpy()
    for name, member in est.members.items():
        if isinstance(member, (RegressionMember, PairwiseMember)):
            h = head_inputs(inputs.embeddings, inputs.read_macs, member.args["flops_input"]).numpy()
        if isinstance(member, (RegressionMember, GNNMember)):
            labels = est.labels(name, acc, macs)
            if config.recentre:
                recentre_output(member, inputs, labels)
        if isinstance(member, RegressionMember):
            fit_regression_head(h, labels, u if member.args["n_heads"] > 1 else None,
                                config=stage, seed=config.seed, flops_aware=member.target == "eq5", init=member,
                                epochs=config.epochs, name=f"fine-tune {name}")
        elif isinstance(member, PairwiseMember):
            fit_pairwise_head(h, acc, u if member.args["n_heads"] > 1 else None, config=stage, seed=config.seed,
                              init=member, epochs=config.epochs, name=f"fine-tune {name}")
        elif isinstance(member, GNNMember):
            fit_gnn(graphs, labels, member.args["conv"], config=stage, seed=config.seed, init=member,
                    epochs=config.epochs)


@torch.no_grad()
def recentre_output(member: RegressionMember | GNNMember, inputs: SharedInputs, labels: np.ndarray) -> float:
    """Add mean(labels - member(inputs)) to the bias of every final (1-output) linear layer of
    ``member``, which shifts its predictions by exactly that (membership weights sum to 1), and
    return the shift."""
    shift = float(np.mean(np.asarray(labels, dtype=np.float64) - member(inputs).double().numpy()))
    for layer in member.modules():
        if isinstance(layer, nn.Linear) and layer.out_features == 1 and layer.bias is not None:
            layer.bias += shift
    return shift
