"""Metrics against hand-computed values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gennape.evaluation import metrics
from gennape.errors import GennapeError

ACC = np.array([91.0, 93.5, 92.0, 94.0, 90.0, 92.5])


def test_perfect_and_reversed_rankings():
    for fn in (metrics.spearman, metrics.kendall_tau):
        assert fn(ACC, 2 * ACC + 1) == pytest.approx(1.0)
        assert fn(ACC, -ACC) == pytest.approx(-1.0)
    assert metrics.ndcg(ACC, ACC) == pytest.approx(1.0)
    assert metrics.top_k_precision(ACC, ACC, 50) == 1.0
    assert metrics.top_k_precision(ACC, -ACC, 50) == 0.0


def test_rank_correlations_by_hand():
    # one swap of neighbours among 5: sum d^2 = 4 -> rho = 1 - 6 * 4 / (5 * 24) = 0.8
    assert metrics.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    assert metrics.spearman([1, 2, 3, 4, 5], [2, 1, 3, 4, 5]) == pytest.approx(0.9)
    # 5 concordant, 1 discordant pair: tau = (5 - 1) / 6
    assert metrics.kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)


def test_ndcg_of_a_known_permutation():
    y_true = [10.0, 20.0, 30.0, 40.0]  # relevance 0, 20/3, 40/3, 20
    y_pred = [4.0, 3.0, 1.0, 2.0]      # predicted order: items 0, 1, 3, 2
    dcg = 0 + (20 / 3) / math.log2(3) + 20 / math.log2(4) + (40 / 3) / math.log2(5)
    ideal = 20 + (40 / 3) / math.log2(3) + (20 / 3) / math.log2(4)
    assert metrics.ndcg(y_true, y_pred, k=4) == pytest.approx(dcg / ideal)
    assert metrics.ndcg(y_true, y_pred, k=10) == pytest.approx(dcg / ideal)
    top_two = ((20 / 3) / math.log2(3)) / (20 + (40 / 3) / math.log2(3))
    assert metrics.ndcg(y_true, y_pred, k=2) == pytest.approx(top_two)
    assert metrics.ndcg(y_true, y_pred, k=4) == pytest.approx(0.628385, abs=1e-6)


def test_ndcg_averages_gains_over_tied_predictions():
    # scikit-learn's ignore_ties=False equals the DCG averaged over every order of the tied items.
    y_true = np.array([90.0, 91.0, 95.0, 92.0, 93.0, 90.5])
    y_pred = np.array([1.0, 1.0, 2.0, 2.0, 2.0, 3.0])
    gain = metrics.relevance(y_true)
    k = 4
    discount = 1 / np.log2(np.arange(2, k + 2))
    ideal = np.sort(gain)[::-1][:k] @ discount
    dcgs = [gain[list(p)][:k] @ discount for p in itertools.permutations(range(6))
            if (np.diff(y_pred[list(p)]) <= 0).all()]
    assert len(dcgs) == 2 * 6
    assert metrics.ndcg(y_true, y_pred, k=k) == pytest.approx(np.mean(dcgs) / ideal)


def test_relevance_is_scaled_to_twenty():
    np.testing.assert_allclose(metrics.relevance([90.0, 92.0, 94.0]), [0.0, 10.0, 20.0])


def test_mae_and_top_k_precision_by_hand():
    assert metrics.mae([90.0, 92.0, 94.0], [91.0, 91.0, 94.5]) == pytest.approx(2.5 / 3)
    y_true = np.arange(20.0)
    y_pred = y_true.copy()
    y_pred[18] = -1.0  # 10 % of 20 = the top 2 (items 19, 18): the prediction finds only item 19
    assert metrics.top_k_precision(y_true, y_pred, 10) == 0.5
    assert metrics.top_k_precision(y_true, y_pred, 1) == 1.0  # at least one network


def test_summary_collects_every_metric():
    rng = np.random.default_rng(0)
    y_true = rng.uniform(90, 94, 100)
    y_pred = y_true + rng.normal(scale=0.5, size=100)
    s = metrics.summary(y_true, y_pred)
    assert s == {"spearman": metrics.spearman(y_true, y_pred), "kendall_tau": metrics.kendall_tau(y_true, y_pred),
                 "ndcg@10": metrics.ndcg(y_true, y_pred, 10), "ndcg@50": metrics.ndcg(y_true, y_pred, 50),
                 "mae": metrics.mae(y_true, y_pred), "top10%_precision": metrics.top_k_precision(y_true, y_pred)}
    assert 0.5 < s["spearman"] < 1 and 0 < s["mae"] < 1


def test_constant_truth_has_no_ranking():
    assert math.isnan(metrics.ndcg([92.0, 92.0, 92.0], [1.0, 2.0, 3.0]))


def test_bad_input_is_named():
    with pytest.raises(GennapeError, match="equal-length"):
        metrics.spearman([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(GennapeError, match="NaN"):
        metrics.mae([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(GennapeError, match="percent"):
        metrics.top_k_precision([1.0, 2.0], [1.0, 2.0], 0)


def test_minus_infinity_is_the_lowest_prediction():
    acc, finite = [10.0, 90.0, 80.0, 70.0], [-5.0, 3.0, 2.0, 1.0]
    scored = [-np.inf, 3.0, 2.0, 1.0]
    for metric in (metrics.spearman, metrics.kendall_tau, metrics.ndcg, metrics.top_k_precision):
        assert metric(acc, scored) == metric(acc, finite), metric.__name__
    with pytest.raises(GennapeError, match=r"\+inf"):
        metrics.spearman(acc, [np.inf, 3.0, 2.0, 1.0])
    with pytest.raises(GennapeError, match="NaN"):
        metrics.spearman([np.nan, 1.0], scored[:2])
