"""The evaluation protocol: the fine-tuning split, and every method's metrics from one estimator
(the quick-trained one) on random graphs with synthetic accuracies."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from random_graphs import random_networks

from gennape.evaluation import protocol as evaluate
from gennape.errors import GennapeError
from gennape.evaluation.metrics import spearman, summary
from gennape.training import TrainConfig, train_estimator

torch.set_num_threads(1)


def test_finetune_split_depends_only_on_the_seed():
    tune, test = evaluate.finetune_split(500, seed=3)
    again = evaluate.finetune_split(500, seed=3)
    assert np.array_equal(tune, again[0]) and np.array_equal(test, again[1])
    assert len(tune) == 50 and len(test) == 450
    assert np.array_equal(np.sort(np.concatenate([tune, test])), np.arange(500))  # disjoint and complete
    assert not np.array_equal(tune, evaluate.finetune_split(500, seed=4)[0])
    assert len(evaluate.finetune_split(100, seed=0, k=10)[0]) == 10


def test_finetune_split_needs_networks_left_to_test():
    with pytest.raises(GennapeError, match="50 fine-tuning samples from 51"):
        evaluate.finetune_split(51, seed=0)




@pytest.fixture(scope="module")
def estimator(tmp_path_factory):
    return train_estimator(TrainConfig.preset("quick"), 0, tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="module")
def family():
    graphs = random_networks(90, seed=5, cells=(3, 7))
    flops = np.log10([g.flops for g in graphs])
    acc = 80 + 2 * (flops - flops.mean()) + np.random.default_rng(0).normal(0, 1, len(graphs))
    return graphs, acc


@pytest.mark.data("raw/nasbench101")
def test_method_scores_match_the_estimator_and_the_graphs(estimator, family):
    graphs, _ = family
    scores = evaluate.method_scores(estimator, graphs, evaluate.methods_of(estimator))
    assert set(scores) == {*estimator.members, "gennape", "gennape_nb101", "params"}
    np.testing.assert_allclose(scores["gennape"], estimator.predict(graphs), rtol=1e-6, atol=1e-9)
    as_nb101 = copy.copy(estimator)
    as_nb101.common_scale = "nb101"
    np.testing.assert_allclose(scores["gennape_nb101"], as_nb101.predict(graphs), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(scores["cl_t"], estimator.predict(graphs, member="cl_t"), rtol=1e-6)
    assert np.array_equal(scores["flops"], [g.flops for g in graphs])
    assert np.array_equal(scores["params"], [g.params for g in graphs])
    with pytest.raises(GennapeError, match="unknown method.*synflow"):
        evaluate.method_scores(estimator, graphs, ["synflow"])


@pytest.mark.data("raw/nasbench101")
def test_zero_shot_reports_mae_only_for_accuracy_outputs(estimator, family):
    graphs, acc = family
    result = evaluate.zero_shot(estimator, graphs, acc)
    with_mae = {m for m, v in result.items() if "mae" in v}
    assert with_mae == {"cl_fcm_t", "cl_t", "cl_fcm", "cl", "kgnn"}
    assert result["flops"] == {k: v for k, v in summary(acc, [g.flops for g in graphs]).items() if k != "mae"}
    for metrics in result.values():
        assert -1 <= metrics["spearman"] <= 1 and 0 <= metrics["ndcg@10"] <= 1
    with pytest.raises(GennapeError, match="90 graphs but 89 accuracies"):
        evaluate.zero_shot(estimator, graphs, acc[:-1])


@pytest.mark.data("raw/nasbench101")
def test_few_shot_scores_the_held_out_networks_and_leaves_the_estimator_alone(estimator, family):
    graphs, acc = family
    before = estimator.predict(graphs)
    result = evaluate.few_shot(estimator, graphs, acc, seed=1, k=20, epochs=1)
    _, test = evaluate.finetune_split(len(graphs), seed=1, k=20)
    flops = np.array([g.flops for g in graphs])
    assert result["flops"]["spearman"] == pytest.approx(spearman(acc[test], flops[test]))
    assert set(result) == set(evaluate.methods_of(estimator))
    assert all(np.isfinite(v["spearman"]) for v in result.values())
    np.testing.assert_array_equal(estimator.predict(graphs), before)


@pytest.mark.data("raw/nasbench101")
def test_nb101_val2_drops_cells_below_the_threshold(estimator, family):
    graphs, acc = family
    val2 = np.arange(0, 90, 2)
    result = evaluate.nb101_val2(estimator, graphs, acc, val2, min_accuracy=80.0, methods=["params"])
    params = np.array([g.params for g in graphs])[val2]
    keep = acc[val2] >= 80.0
    assert 0 < keep.sum() < len(val2)
    assert result["all"]["params"]["spearman"] == pytest.approx(spearman(acc[val2], params))
    assert result["above"]["params"]["spearman"] == pytest.approx(spearman(acc[val2][keep], params[keep]))
