"""The Estimator: prediction on any graph, the common scale, save/load, fine-tuning, shipped weights."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from random_graphs import random_network, random_networks

from gennape.errors import GennapeError
from gennape.estimator import (
    ENSEMBLE,
    Estimator,
    FlopsMember,
    GNNMember,
    PairwiseMember,
    RegressionMember,
    head_inputs,
    log10_gflops,
    member_from_spec,
    normalised_ranks,
)
from gennape.evaluation.metrics import kendall_tau
from gennape.model import FlopsAwareTransform, FuzzyCMeans, GraphEncoder

torch.set_num_threads(1)


def make_estimator(graphs, seed: int = 0) -> Estimator:
    """An untrained estimator with every member kind, FCM centres and scales fitted on ``graphs``."""
    torch.manual_seed(seed)
    encoder = GraphEncoder()
    fcm = FuzzyCMeans(3, seed=seed).fit(encoder.embed(graphs))
    macs = np.array([float(g.flops) for g in graphs])
    acc = np.random.default_rng(seed).uniform(85, 95, len(graphs))
    members = {"cl_fcm_t": RegressionMember(True, 3), "cl_t": RegressionMember(True, 1, flops_input=True),
               "cl_pairwise_fcm": PairwiseMember(3, flops_input=True), "cl_pairwise": PairwiseMember(1),
               "kgnn": GNNMember("kgnn", flops_input=True),
               "flops": FlopsMember(), "cl": RegressionMember(False, 1)}
    est = Estimator(encoder, fcm, FlopsAwareTransform().fit(acc, macs), (float(acc.mean()), float(acc.std())),
                    members)
    est.scales = {n: (float(s.mean()), float(s.std())) for n, s in est.member_scores(graphs, list(members)).items()}
    return est


@pytest.fixture(scope="module")
def graphs():
    return random_networks(40, seed=1)


@pytest.fixture(scope="module")
def est(graphs):
    return make_estimator(graphs)


def odd_graphs():
    rng = np.random.default_rng(3)
    huge = random_network(rng, 900, channels=8, name="huge")
    assert huge.num_nodes > 5000
    big_input = random_network(rng, 4, hw=600, name="600px")
    oov = next(g for g in random_networks(30, seed=5) if g.oov_names)
    kernel11 = next(g for g in random_networks(30, seed=6) if (g.kernels == 11).any())
    return [huge, big_input, oov, kernel11]


def test_predict_never_raises_on_odd_graphs_and_returns_finite_scores(est):
    odd = odd_graphs()
    scores = est.predict(odd)
    assert scores.shape == (len(odd),) and np.isfinite(scores).all()
    for member in est.members:
        assert np.isfinite(est.predict(odd, member=member)).all()
    assert np.isfinite(est.predict_accuracy(odd)).all()


def test_nb101_scale_scores_one_graph_as_in_a_batch(est, graphs):
    est = copy.copy(est)
    est.common_scale = "nb101"
    batched = est.predict(graphs)
    assert est.predict(graphs[7:8]) == pytest.approx(batched[7:8], abs=1e-3)  # float32 summation order
    assert est.predict([]).shape == (0,)


def test_rank_scale_ranks_within_one_call(est, graphs):
    assert est.common_scale == "rank"
    assert est.predict(graphs[7:8]) == pytest.approx([0.5])
    assert est.predict([]).shape == (0,)
    scores = est.member_scores(graphs, list(est.weights))
    n = len(graphs)
    expected = np.mean([(np.argsort(np.argsort(scores[m])) + 0.5) / n for m in est.weights], axis=0)
    assert est.predict(graphs) == pytest.approx(expected)  # no ties among these scores
    with pytest.raises(GennapeError, match="unknown common scale 'zscore'"):
        Estimator(est.encoder, est.fcm, est.transform, est.accuracy_stats, est.members, common_scale="zscore")


def test_normalised_ranks_share_ties():
    assert normalised_ranks(np.array([3.0, 1.0, 3.0, 2.0])) == pytest.approx(np.array([3.5, 1, 3.5, 2]) / 4 - 0.125)


def test_ensemble_is_weighted_mean_of_member_scores_on_the_common_scale(est, graphs):
    est = Estimator(est.encoder, est.fcm, est.transform, est.accuracy_stats, est.members, scales=est.scales,
                    weights={"cl_t": 3.0, "flops": 1.0}, common_scale="nb101")
    scores = est.member_scores(graphs, ["cl_t", "flops"])
    expected = 0.75 * est.standardise("cl_t", scores["cl_t"]) + 0.25 * est.standardise("flops", scores["flops"])
    assert est.predict(graphs) == pytest.approx(expected)
    # NB-101 z-scores: every member has mean 0, std 1 on the graphs its scales came from
    z = est.standardise("kgnn", est.predict(graphs, member="kgnn"))
    assert z.mean() == pytest.approx(0, abs=1e-6) and z.std() == pytest.approx(1, abs=1e-5)


def test_default_weights_are_equal_over_the_six_members(est):
    assert est.weights == {name: 1.0 for name in ENSEMBLE}


def test_predict_accuracy_inverts_eq5_of_the_fcm_heads(est, graphs):
    inputs = est.shared_inputs(graphs)
    with torch.no_grad():
        y = est.members["cl_fcm_t"](inputs).numpy()
    expected = est.transform.inverse(y.astype(np.float64), np.array([float(g.flops) for g in graphs]))
    assert est.predict_accuracy(graphs) == pytest.approx(expected, rel=1e-6)


def centred(est: Estimator, centre: float) -> Estimator:
    c = copy.deepcopy(est)
    c.flops_centre = centre
    return c


def test_flops_centring_reads_each_call_at_the_centre_median(est, graphs):
    median = float(np.median(log10_gflops([g.flops for g in graphs])))
    c = centred(est, median + 1.0)  # the call is read as if ten times costlier
    assert c.shift_of(graphs) == pytest.approx(1.0) and est.shift_of(graphs) == 0.0
    inputs = c.shared_inputs(graphs)
    np.testing.assert_allclose(inputs.read_macs.numpy(), 10 * inputs.macs.numpy())
    with torch.no_grad():  # the heads' column reads the scaled FLOPs...
        y = c.members["cl_t"](inputs).double().numpy()
        y_plain = est.members["cl_t"](est.shared_inputs(graphs)).double().numpy()
    assert not np.allclose(y, y_plain)
    # ...and so does the inverse of Eq. 5
    np.testing.assert_allclose(c.predict(graphs, member="cl_t"), c.transform.inverse(y, 10 * inputs.macs.numpy()),
                               rtol=1e-6)
    np.testing.assert_array_equal(c.predict(graphs, member="flops"), est.predict(graphs, member="flops"))
    same = centred(est, median)  # a call already at the centre reads its FLOPs as they are
    np.testing.assert_allclose(same.predict(graphs, member="cl_t"), est.predict(graphs, member="cl_t"), rtol=1e-6)


def test_flops_centring_shifts_a_whole_call_alike_however_it_is_chunked(est, graphs, monkeypatch):
    import gennape.estimator.scoring as scoring

    c = centred(est, -1.0)
    whole = c.predict(graphs, member="cl_fcm_t")
    monkeypatch.setattr(scoring, "MAX_CHUNK_NODES", 50)
    np.testing.assert_allclose(c.predict(graphs, member="cl_fcm_t"), whole, rtol=1e-6)


def test_fine_tune_under_flops_centring_fixes_the_samples_shift(est, graphs, tmp_path):
    c = centred(est, -1.0)
    acc = np.random.default_rng(3).uniform(60, 70, 20)
    tuned = c.fine_tune(graphs[:20], acc, epochs=2, members=list(c.weights))
    assert c.flops_shift is None and tuned.flops_shift == pytest.approx(c.shift_of(graphs[:20]))
    rest = tuned.predict(graphs[20:], member="cl_fcm_t")
    assert tuned.predict(graphs[25:26], member="cl_fcm_t")[0] == pytest.approx(rest[5])  # one graph, as in a call
    loaded = Estimator.load(tuned.save(tmp_path))
    assert (loaded.flops_centre, loaded.flops_shift) == (tuned.flops_centre, tuned.flops_shift)
    np.testing.assert_array_equal(loaded.predict(graphs[20:]), tuned.predict(graphs[20:]))


def test_unknown_member_is_refused(est, graphs):
    with pytest.raises(GennapeError, match="unknown estimator member"):
        est.predict(graphs, member="gcn")


def test_heads_with_flops_input_also_read_log10_gflops():
    h = torch.zeros(2, 32)
    x = head_inputs(h, torch.tensor([1e9, 1e7], dtype=torch.float64), flops_input=True)
    assert x.shape == (2, 33) and torch.equal(x[:, :32], h)
    torch.testing.assert_close(x[:, 32], torch.tensor([0.0, -2.0]))
    assert head_inputs(h, torch.tensor([1e9, 1e7]), flops_input=False) is h
    # estimators saved before the option existed load as heads on the embedding alone
    old = member_from_spec({"kind": "pairwise", "n_heads": 1, "dim": 32, "hidden": 32, "num_layers": 3})
    assert old.args["flops_input"] is False and old.head.scorer.net[0].in_features == 32


def test_save_load_round_trip_gives_identical_predictions(est, graphs, tmp_path):
    est.save(tmp_path)
    loaded = Estimator.load(tmp_path)
    assert set(loaded.members) == set(est.members)
    for member in est.members:
        np.testing.assert_array_equal(loaded.predict(graphs, member=member), est.predict(graphs, member=member))
    np.testing.assert_array_equal(loaded.predict(graphs), est.predict(graphs))
    assert loaded.common_scale == est.common_scale


def test_load_refuses_other_feature_versions(est, tmp_path):
    est.save(tmp_path)
    meta = json.loads((tmp_path / "estimator.json").read_text())
    meta["feature_version"] += 1
    (tmp_path / "estimator.json").write_text(json.dumps(meta))
    with pytest.raises(GennapeError, match="versions"):
        Estimator.load(tmp_path)
    with pytest.raises(GennapeError, match="lacks"):
        Estimator.load(tmp_path / "missing")


def test_fine_tune_returns_new_estimator_and_leaves_original_unchanged(est, graphs):
    samples, rest = graphs[:12], graphs[12:]
    acc = 60 + 10 * np.log10(1 + np.array([g.flops for g in samples], dtype=float) / 1e6)  # learnable
    before = {m: est.predict(rest, member=m) for m in est.members}
    before_weights = dict(est.weights)
    tuned = est.fine_tune(samples, acc, epochs=3, seed=0)
    assert tuned is not est
    for m in est.members:
        np.testing.assert_array_equal(est.predict(rest, member=m), before[m])
    assert est.weights == before_weights
    assert not np.array_equal(tuned.predict(rest, member="cl_fcm_t"), before["cl_fcm_t"])
    # the encoder is frozen: identical embeddings
    np.testing.assert_array_equal(tuned.encoder.embed(rest), est.encoder.embed(rest))
    # ensemble weights: softmax of each member's Kendall tau on the fine-tuning samples
    taus = np.array([kendall_tau(acc, tuned.predict(samples, member=m)) for m in tuned.weights])
    soft = np.exp(taus) / np.exp(taus).sum()
    assert list(tuned.weights.values()) == pytest.approx(soft.tolist())
    assert tuned.weights["flops"] == max(tuned.weights.values())  # acc is a function of FLOPs: tau = 1


def test_fine_tune_rejects_mismatched_labels(est, graphs):
    with pytest.raises(GennapeError, match="fine_tune needs"):
        est.fine_tune(graphs[:5], [90.0, 91.0])


def test_fine_tune_can_keep_only_some_members(est, graphs):
    samples, rest = graphs[:12], graphs[12:]
    acc = 60 + 10 * np.log10(1 + np.array([g.flops for g in samples], dtype=float) / 1e6)
    keep = [*est.weights, "cl"]
    tuned = est.fine_tune(samples, acc, epochs=2, seed=0, members=keep)
    assert set(tuned.members) == set(keep) and set(tuned.weights) == set(est.weights)
    full = est.fine_tune(samples, acc, epochs=2, seed=0)  # the kept members train exactly as without the option
    np.testing.assert_allclose(tuned.predict(rest), full.predict(rest))
    with pytest.raises(GennapeError, match="the ensemble also needs.*kgnn"):
        est.fine_tune(samples, acc, members=[m for m in est.weights if m != "kgnn"])
    with pytest.raises(GennapeError, match="unknown.*'resnet'"):
        est.fine_tune(samples, acc, members=[*est.weights, "resnet"])


def test_import_gennape_does_not_import_torch():
    code = "import sys, gennape; assert 'torch' not in sys.modules; assert callable(gennape.load_pretrained)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_shipped_weights_load_and_rank_graphs(graphs):
    import gennape

    est = gennape.load_pretrained()
    assert set(ENSEMBLE) <= set(est.members) and est.info["trained_on"].startswith("NB-101")
    scores = est.predict(graphs)
    assert scores.shape == (len(graphs),) and np.isfinite(scores).all() and scores.std() > 0
    assert np.isfinite(est.predict_accuracy(odd_graphs())).all()


@pytest.mark.data("raw/nasbench101")
def test_shipped_weights_still_predict_nb101_validation_cells():
    """Guards the weights against silent changes of features or graph conversion."""
    import gennape
    from gennape import families
    from gennape.data import load
    from gennape.evaluation.metrics import mae, spearman
    from gennape.training import split_nb101

    records = load("nb101")
    est = gennape.load_pretrained()
    val2 = split_nb101(len(records), est.info["config"]["split_seed"])[2]
    cells = [records[i] for i in val2[:300] if records[i].accuracy >= 80]
    graphs = [families.get("nb101").to_graph(r.spec) for r in cells]
    acc = np.array([r.accuracy for r in cells])
    predicted = est.predict_accuracy(graphs)
    assert spearman(acc, predicted) > 0.7 and mae(acc, predicted) < 1.5
    assert spearman(acc, est.predict(graphs)) > 0.7


def test_recentring_moves_each_regressor_onto_the_mean_label_and_keeps_its_ranking(est, graphs):
    # labels far below NB-101's scale (a 45 % top-1 family): the shift must land exactly, FCM heads included
    from gennape.training import recentre_output

    tuned = copy.deepcopy(est)
    with torch.no_grad():
        inputs = tuned.shared_inputs(graphs)
    acc = 45 + np.linspace(0, 2, len(graphs))
    for name in ("cl_fcm_t", "cl", "kgnn"):
        member = tuned.members[name]
        with torch.no_grad():
            before = member(inputs).double().numpy()
        labels = tuned.labels(name, acc, inputs.macs.numpy())
        shift = recentre_output(member, inputs, labels)
        with torch.no_grad():
            after = member(inputs).double().numpy()
        assert shift < -1 and after.mean() == pytest.approx(labels.mean(), abs=1e-4)
        np.testing.assert_allclose(after - before, shift, atol=1e-4)  # a pure shift: the ranking is kept
