"""GENNAPE's evaluation protocol (Mills et al., AAAI 2023, §6 and §8): zero-shot and 50-shot metrics of
every estimator member, the ensemble and the cheap baselines on one labelled family, and the
NB-101 in-family numbers on validation-2.

Methods are named as estimator members (``cl_fcm_t``, ``kgnn``, ...), ``"gennape"`` (the
ensemble on the estimator's common scale), ``"gennape_nb101"`` (the same members combined as NB-101
z-scores, the other common scale, reported beside it), and the cheap baselines ``"flops"`` (the
graph's multiply-adds) and ``"params"``.
MAE (percentage points) is reported only for methods whose output is an accuracy in percent:
the Eq. 5 members through the inverse transform and the raw-accuracy regressors directly (see
:func:`calibrated`). Accuracies are in percent throughout.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import GennapeError
from ..estimator import Estimator
from ..graph.compute_graph import ComputeGraph
from .metrics import summary

ENSEMBLE_METHOD = "gennape"
#: ensemble variants: method -> common scale (None: the estimator's own)
ENSEMBLES = {ENSEMBLE_METHOD: None, "gennape_nb101": "nb101"}
#: methods scored from the graph alone, no estimator needed
CHEAP_BASELINES = {"flops": lambda g: float(g.flops), "params": lambda g: float(g.params)}


def methods_of(est: Estimator) -> list[str]:
    """Every method ``est`` can be evaluated with: its members (the ``flops`` member is left out: it
    ranks as the cheap baseline of the same name, log10(1 + MACs) as MACs, except that it reads the
    live graph, :mod:`gennape.graph.live`), the ensembles, the cheap baselines (the built network's counts)."""
    members = [m for m in est.members if m not in CHEAP_BASELINES]
    return [*members, *ENSEMBLES, *CHEAP_BASELINES]


def calibrated(est: Estimator, method: str) -> bool:
    """Whether ``method``'s output is an accuracy in percent (so that its MAE means something)."""
    member = est.members.get(method)
    return member is not None and member.target in ("eq5", "accuracy")


def finetune_split(n: int, seed: int, k: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(the ``k`` fine-tuning indices, the other n - k), sorted; they depend only on ``n`` and
    ``seed``, so every method fine-tunes on the same samples for a given seed."""
    if not 2 <= k < n - 1:
        raise GennapeError(f"cannot draw {k} fine-tuning samples from {n} networks and keep at least 2 to test")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:k]), np.sort(perm[k:])


def method_scores(est: Estimator, graphs: Sequence[ComputeGraph], methods: Sequence[str]) -> dict[str, np.ndarray]:
    """{method: (len(graphs),) scores, higher = better}. One encoder pass serves every member and
    the ensemble (combined exactly as :meth:`Estimator.predict` does)."""
    unknown = [m for m in methods if m not in (*est.members, *ENSEMBLES, *CHEAP_BASELINES)]
    if unknown:
        raise GennapeError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(methods_of(est))}")
    wanted = [m for m in methods if m in est.members and m not in CHEAP_BASELINES]
    if any(m in ENSEMBLES for m in methods):
        wanted += [m for m in est.weights if m not in wanted]
    member = est.member_scores(graphs, wanted) if wanted else {}
    out = {}
    for m in methods:
        if m in CHEAP_BASELINES:
            out[m] = np.array([CHEAP_BASELINES[m](g) for g in graphs])
        elif m in ENSEMBLES:
            out[m] = est.combine(member, ENSEMBLES[m])
        else:
            out[m] = member[m]
    return out


def score_metrics(est: Estimator, scores: dict[str, np.ndarray], acc: np.ndarray) -> dict[str, dict[str, float]]:
    """:func:`.metrics.summary` of each method's scores; ``mae`` only where :func:`calibrated`."""
    out = {}
    for method, s in scores.items():
        m = summary(acc, s)
        if not calibrated(est, method):
            del m["mae"]
        out[method] = m
    return out


def zero_shot(est: Estimator, graphs: Sequence[ComputeGraph], acc, methods: Sequence[str] | None = None
              ) -> dict[str, dict[str, float]]:
    """Metrics of every method on all of ``graphs`` (true accuracies ``acc``, percent), untouched by the family."""
    acc = _accuracies(graphs, acc)
    return score_metrics(est, method_scores(est, graphs, methods or methods_of(est)), acc)


def few_shot(est: Estimator, graphs: Sequence[ComputeGraph], acc, seed: int, methods: Sequence[str] | None = None,
             k: int = 50, epochs: int = 100) -> dict[str, dict[str, float]]:
    """Fine-tune ``est`` once (:meth:`Estimator.fine_tune`, which tunes every member and reweights
    the ensemble) on the ``k`` samples of :func:`finetune_split` and report every method's metrics on
    the held-out rest. The cheap baselines are scored on the same held-out networks."""
    acc = _accuracies(graphs, acc)
    tune, test = finetune_split(len(graphs), seed, k)
    tuned = est.fine_tune([graphs[i] for i in tune], acc[tune], epochs=epochs, seed=seed)
    return zero_shot(tuned, [graphs[i] for i in test], acc[test], methods or methods_of(est))


def nb101_val2(est: Estimator, graphs: Sequence[ComputeGraph], acc, val2: np.ndarray, min_accuracy: float = 80.0,
               methods: Sequence[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """NB-101 in-family metrics on the validation-2 cells ``val2`` (indices): {"all": ..., "above":
    ...}, the second without the cells below ``min_accuracy`` (the population the Eq. 5 members are
    trained and judged on, as in the paper)."""
    acc = _accuracies(graphs, acc)
    val2 = np.asarray(val2)
    scores = method_scores(est, [graphs[i] for i in val2], methods or methods_of(est))
    keep = acc[val2] >= min_accuracy
    return {"all": score_metrics(est, scores, acc[val2]),
            "above": score_metrics(est, {m: s[keep] for m, s in scores.items()}, acc[val2][keep])}


def _accuracies(graphs: Sequence[ComputeGraph], acc) -> np.ndarray:
    acc = np.asarray(acc, dtype=np.float64).ravel()
    if len(acc) != len(graphs):
        raise GennapeError(f"{len(graphs)} graphs but {len(acc)} accuracies")
    return acc
