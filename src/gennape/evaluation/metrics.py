"""Ranking and regression metrics of accuracy predictions, as GENNAPE reports them.

All functions take true accuracies and predictions as 1-D arrays of equal length. Accuracies are in
percent; only :func:`mae` needs predictions on the same scale, the ranking metrics accept any score.

NDCG@k follows GENNAPE's code (AceNAS relevance, scikit-learn's ``ndcg_score``): relevance =
clip((acc - min) / (max - min), 0, 1) * 20 with min/max over the evaluated set, linear gain, discount
1 / log2(rank + 1), normalised by the ideal DCG; predictions that tie share the average gain of their
tied group (``ignore_ties=False``). Re-implemented here in numpy so that scikit-learn is not needed.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from ..errors import GennapeError

RELEVANCE_SCALE = 20.0


def _as_arrays(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if len(y_true) != len(y_pred) or len(y_true) < 2:
        raise GennapeError(f"metrics need two equal-length arrays of at least 2 values, got "
                           f"{len(y_true)} and {len(y_pred)}")
    # -inf is a prediction (certainly worst: the estimator's score of a constant-output network)
    if not (np.isfinite(y_true).all() and (np.isfinite(y_pred) | (y_pred == -np.inf)).all()):
        raise GennapeError("metrics need finite labels and predictions that are finite or -inf "
                           "(a label is NaN or infinite, or a prediction is NaN or +inf)")
    return y_true, y_pred


def spearman(y_true, y_pred) -> float:
    """Spearman's rank correlation (NaN when either side is constant)."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    return float(scipy.stats.spearmanr(y_true, y_pred).statistic)


def kendall_tau(y_true, y_pred) -> float:
    """Kendall's tau-b (NaN when either side is constant)."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    return float(scipy.stats.kendalltau(y_true, y_pred).statistic)


def relevance(acc) -> np.ndarray:
    """AceNAS relevance of accuracies: min-max scaled to [0, 1], times 20."""
    acc = np.asarray(acc, dtype=np.float64)
    lo, hi = acc.min(), acc.max()
    return np.clip((acc - lo) / (hi - lo), 0.0, 1.0) * RELEVANCE_SCALE


def ndcg(y_true, y_pred, k: int = 10) -> float:
    """NDCG@k of the ranking by ``y_pred``, with relevance from ``y_true`` (see the module docstring).
    NaN when all true accuracies are equal (no ranking is better than another)."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    if y_true.min() == y_true.max():
        return float("nan")
    gain = relevance(y_true)
    discount = 1.0 / np.log2(np.arange(len(gain)) + 2.0)
    discount[k:] = 0.0
    ideal = float(np.sort(gain)[::-1] @ discount)
    # Tied predictions: each group of equal scores gets the mean gain of its members, times the
    # discounts of the ranks it occupies.
    _, group, size = np.unique(-y_pred, return_inverse=True, return_counts=True)
    mean_gain = np.bincount(group, weights=gain) / size
    rank_end = np.cumsum(size)
    cum_discount = np.concatenate([[0.0], np.cumsum(discount)])
    group_discount = cum_discount[rank_end] - cum_discount[rank_end - size]
    return float(mean_gain @ group_discount / ideal)


def mae(y_true, y_pred) -> float:
    """Mean absolute error, in the unit of the inputs (percentage points for accuracies in percent)."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    return float(np.abs(y_true - y_pred).mean())


def top_k_precision(y_true, y_pred, percent: float = 10.0) -> float:
    """Fraction of the truly best ``percent`` % of networks that are among the predicted best
    ``percent`` % (at least one network; ties broken by position)."""
    y_true, y_pred = _as_arrays(y_true, y_pred)
    if not 0 < percent <= 100:
        raise GennapeError(f"percent must be in (0, 100], got {percent}")
    n_top = max(1, int(round(len(y_true) * percent / 100)))
    true_top = np.argsort(-y_true, kind="stable")[:n_top]
    pred_top = np.argsort(-y_pred, kind="stable")[:n_top]
    return len(np.intersect1d(true_top, pred_top)) / n_top


def summary(y_true, y_pred) -> dict[str, float]:
    """Every metric at GENNAPE's settings. ``mae`` is meaningful only when the predictions are
    accuracies in percent."""
    return {"spearman": spearman(y_true, y_pred), "kendall_tau": kendall_tau(y_true, y_pred),
            "ndcg@10": ndcg(y_true, y_pred, 10), "ndcg@50": ndcg(y_true, y_pred, 50),
            "mae": mae(y_true, y_pred), "top10%_precision": top_k_precision(y_true, y_pred, 10.0)}
