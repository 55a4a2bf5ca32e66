"""Learning to rank from several labelled families, measured leave one design space out.

The paper pre-trains on NB-101 alone. Here a pairwise ranker (a :class:`PairwiseMember`: one MLP on
the frozen encoder's embedding plus log10 GFLOPs) learns "which of two networks of the same task is
better" from NB-101 *and* the labelled tasks of other design spaces. Pairs never cross tasks, since
accuracies of different datasets and training recipes are not comparable; every task contributes
the same number of pairs per epoch, so that NB-101's 16k cells do not drown a 700-network family.

Zero-shot transfer is measured by holding out one design space at a time
(:func:`leave_one_space_out`): the ranker judging a space never saw a label of any network of that
space (the NB-201 cell space includes TransNAS micro, which shares it). A named variant; the issue's
targets are judged on the NB-101-only estimator.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .errors import GennapeError
from .estimator import (
    Estimator,
    PairwiseMember,
    _chunks,
    _normalised_ranks,
    head_inputs,
)
from .graph.compute_graph import ComputeGraph
from .metrics import summary
from .model import graphs_to_batch
from .train import MIN_PAIR_GAP, TrainConfig, _fit

log = logging.getLogger("gennape.multi_family")

#: the labelled tasks each design space lends the ranker for training: one label per network set
#: (NB-201's CIFAR-100 / ImageNet16-120 rows and its 4,096-cell subset would count the same networks again)
TRAINING_TASKS = {
    "NB-201 cells": ("nb201", "transnas_micro/class_object", "transnas_micro/class_scene"),
    "OFA-MBv3": ("ofa_mbv3/dynast", "ofa_mbv3/moofa_mit", "ofa_mbv3/moofa_compofa"),
    "NB-301": ("nb301",),
    "NAS-Bench-Macro": ("nas_bench_macro",),
    "Accel-NASBench": ("accel_nasbench",),
    "TransNAS macro": ("transnas_macro/class_object", "transnas_macro/class_scene"),
}
_SPACE_OF_PREFIX = {"nb201": "NB-201 cells", "transnas_micro": "NB-201 cells", "ofa_mbv3": "OFA-MBv3",
                    "nb301": "NB-301", "nas_bench_macro": "NAS-Bench-Macro", "accel_nasbench": "Accel-NASBench",
                    "transnas_macro": "TransNAS macro"}
PAIRS_PER_TASK = 4096  # pairs per task per epoch


def design_space(set_key: str) -> str:
    """The design space of an evaluation set key (``reproduce.EVAL_SETS``), e.g. "nb201/no_none:cifar100"."""
    prefix = set_key.split("/")[0].split(":")[0]
    if prefix not in _SPACE_OF_PREFIX:
        raise GennapeError(f"no design space known for evaluation set {set_key!r}")
    return _SPACE_OF_PREFIX[prefix]


@torch.no_grad()
def ranker_inputs(est: Estimator, graphs: Sequence[ComputeGraph]) -> np.ndarray:
    """(len(graphs), dim + 1) float32: the estimator's embedding of each graph and its log10 GFLOPs."""
    parts = []
    for chunk in _chunks(graphs):
        batch = graphs_to_batch(chunk)
        parts.append(head_inputs(est.encoder(batch), batch.graph_macs, True))
    return torch.cat(parts).numpy() if parts else np.zeros((0, est.encoder.config["dim"] + 1), np.float32)


def fit_ranker(tasks: dict[str, tuple[np.ndarray, np.ndarray]], config: TrainConfig, seed: int,
               pairs_per_task: int = PAIRS_PER_TASK, epochs: int | None = None) -> PairwiseMember:
    """A pairwise ranker on ``tasks`` ({name: (inputs from :func:`ranker_inputs`, accuracies)}),
    trained ``epochs`` (default ``config.pair_epochs``) epochs of ``pairs_per_task`` within-task
    pairs per task (BCE of P(a beats b), pairs closer than ``MIN_PAIR_GAP`` dropped); last epoch kept."""
    if not tasks:
        raise GennapeError("the multi-family ranker needs at least one labelled task")
    names = list(tasks)
    x = torch.as_tensor(np.concatenate([tasks[n][0] for n in names]), dtype=torch.float32)
    acc = np.concatenate([np.asarray(tasks[n][1], dtype=np.float64) for n in names])
    sizes = np.array([len(tasks[n][1]) for n in names])
    if (sizes < 2).any():
        raise GennapeError(f"every task needs at least 2 labelled networks; sizes {dict(zip(names, sizes))}")
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    member = PairwiseMember(1, x.shape[1] - 1, config.head_hidden, config.head_layers, flops_input=True)

    def batch_loss(idx, rng):
        task = idx % len(names)  # the shuffled indices give every task the same share of each epoch
        a = offsets[task] + (rng.random(len(idx)) * sizes[task]).astype(int)
        b = offsets[task] + (rng.random(len(idx)) * sizes[task]).astype(int)
        keep = np.abs(acc[a] - acc[b]) >= MIN_PAIR_GAP
        a, b = a[keep], b[keep]
        if len(a) == 0:
            return None
        s = member.head.score(x[np.r_[a, b]])
        return F.binary_cross_entropy_with_logits(s[:len(a)] - s[len(a):], torch.as_tensor(acc[a] > acc[b]).float())

    _fit(member, batch_loss, len(names) * pairs_per_task, config.pair_epochs if epochs is None else epochs,
         config.head_batch_size, config.head_lr, seed, "multi-family ranker", grad_clip=config.grad_clip)
    return member.eval()


@torch.no_grad()
def ranker_scores(member: PairwiseMember, inputs: np.ndarray) -> np.ndarray:
    """(N,) float64 ranker scores (higher = better) of :func:`ranker_inputs` rows."""
    return member.head.score(torch.as_tensor(inputs, dtype=torch.float32)).double().numpy()


def leave_one_space_out(est: Estimator, nb101: tuple[np.ndarray, np.ndarray], inputs: dict[str, np.ndarray],
                        data: dict[str, tuple[Sequence[ComputeGraph], np.ndarray]], gennape: dict[str, np.ndarray],
                        config: TrainConfig, seed: int, pairs_per_task: int = PAIRS_PER_TASK,
                        epochs: int | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """Zero-shot metrics of every evaluation set in ``data`` ({key: (graphs, accuracies %)}), each
    scored by a ranker trained on NB-101 (``nb101``: inputs and accuracies of the training cells)
    plus the :data:`TRAINING_TASKS` of every *other* design space present in ``data``.
    ``inputs``: {key: :func:`ranker_inputs`} of those sets; ``gennape``: {key: the estimator's
    ensemble scores}. Returns {key: {"ranker": metrics, "gennape_ranker": metrics}}, the second the
    ensemble with the ranker as a seventh equal-weight member (normalised ranks, as
    :meth:`Estimator.combine`)."""
    out = {}
    spaces = sorted({design_space(key) for key in data})
    n_members = len(est.weights)
    for space in spaces:
        tasks = {"nb101": nb101}
        for other in spaces:
            if other != space:
                tasks.update({key: (inputs[key], data[key][1]) for key in TRAINING_TASKS[other] if key in data})
        log.info("held out %s: ranker trained on %s", space, ", ".join(tasks))
        member = fit_ranker(tasks, config, seed, pairs_per_task, epochs)
        for key in (k for k in data if design_space(k) == space):
            acc = np.asarray(data[key][1], dtype=np.float64)
            scores = ranker_scores(member, inputs[key])
            combined = (n_members * gennape[key] + _normalised_ranks(scores)) / (n_members + 1)
            out[key] = {"ranker": _ranking(acc, scores), "gennape_ranker": _ranking(acc, combined)}
            log.info("held out %-30s SRCC ranker %.3f, GENNAPE + ranker %.3f", key, out[key]["ranker"]["spearman"],
                     out[key]["gennape_ranker"]["spearman"])
    return out


def _ranking(acc: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    m = summary(acc, scores)
    m.pop("mae", None)  # scores, not accuracies
    return m
