"""SeedEnsemble: the mean of several estimators, its files, fine-tuning and the shipped one."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from random_graphs import random_networks
from test_estimator import make_estimator, odd_graphs

import gennape
from gennape.errors import GennapeError
from gennape.estimator.seed_ensemble import INDEX_FILE, SeedEnsemble

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def graphs():
    return random_networks(30, seed=2)


@pytest.fixture(scope="module")
def pair(graphs):
    first, second = make_estimator(graphs, seed=0), make_estimator(graphs, seed=1)
    first.info, second.info = {"seed": 0}, {"seed": 1}
    return first, second


def test_scores_are_the_mean_of_the_estimators(pair, graphs):
    ens = SeedEnsemble(pair)
    a, b = pair
    assert not np.allclose(a.predict(graphs), b.predict(graphs))  # two different estimators
    np.testing.assert_allclose(ens.predict(graphs), (a.predict(graphs) + b.predict(graphs)) / 2)
    np.testing.assert_allclose(ens.predict_accuracy(graphs),
                               (a.predict_accuracy(graphs) + b.predict_accuracy(graphs)) / 2)
    np.testing.assert_allclose(ens.predict(graphs, member="kgnn"),
                               (a.predict(graphs, "kgnn") + b.predict(graphs, "kgnn")) / 2)
    assert ens.seeds == [0, 1]


def test_save_and_load_round_trip(pair, graphs, tmp_path):
    ens = SeedEnsemble(pair)
    ens.save(tmp_path)
    assert json.loads((tmp_path / INDEX_FILE).read_text())["estimators"] == ["seed0", "seed1"]
    loaded = SeedEnsemble.load(tmp_path)
    np.testing.assert_allclose(loaded.predict(graphs), ens.predict(graphs), rtol=1e-6)
    (tmp_path / INDEX_FILE).write_text(json.dumps({"format_version": 99, "estimators": ["seed0"]}))
    with pytest.raises(GennapeError, match="format version 99"):
        SeedEnsemble.load(tmp_path)
    with pytest.raises(GennapeError, match=f"no {INDEX_FILE}"):
        SeedEnsemble.load(tmp_path / "seed0")
    with pytest.raises(GennapeError, match="at least one estimator"):
        SeedEnsemble([])


def test_fine_tune_tunes_every_estimator_and_leaves_the_original(pair, graphs):
    ens = SeedEnsemble(pair)
    before = ens.predict(graphs)
    acc = 10.0 * np.log10([float(g.flops) for g in graphs[:20]])  # a function of FLOPs, in percent
    tuned = ens.fine_tune(graphs[:20], acc, epochs=2, seed=0)
    assert isinstance(tuned, SeedEnsemble) and len(tuned.estimators) == 2
    assert all(e.info["fine_tuned"]["samples"] == 20 for e in tuned.estimators)
    # only what predict and predict_accuracy read is fine-tuned: the reported-only members are dropped
    assert all(set(e.members) == set(e.weights) | {"cl_fcm_t"} for e in tuned.estimators)
    assert all("cl" in e.members for e in ens.estimators)  # make_estimator: one reported-only member
    np.testing.assert_array_equal(ens.predict(graphs), before)
    assert not np.allclose(tuned.predict(graphs), before)


def test_shipped_seed_ensemble_holds_every_trained_seed(graphs):
    ens = gennape.load_pretrained("gennape_seeds")
    single = gennape.load_pretrained()
    assert sorted(ens.seeds) == [0, 1, 2, 3, 4] and single.info["seed"] in ens.seeds
    scores = ens.predict(graphs)
    assert scores.shape == (len(graphs),) and np.isfinite(scores).all() and 0 < scores.min() < scores.max() < 1
    odd = odd_graphs()  # over 5,000 nodes, 600 px, an unknown op, an 11x11 kernel
    assert np.isfinite(ens.predict(odd)).all() and np.isfinite(ens.predict_accuracy(odd)).all()
    with pytest.raises(GennapeError, match="no shipped estimator named 'best'.*gennape_seeds"):
        gennape.load_pretrained("best")
