"""Training: the NB-101 split, each stage on synthetic graphs, and the quick preset end to end."""

from __future__ import annotations

import dataclasses
import json
import logging

import numpy as np
import pytest
import torch
from random_graphs import random_networks

from gennape.errors import GennapeError
from gennape.estimator import ENSEMBLE, Estimator
from gennape.model import laplacian_spectra
from gennape.data import load
from gennape.families.nb101 import network_graph
from gennape.training import (
    FineTuneConfig,
    RandomWidths,
    TrainConfig,
    fit,
    fit_gnn,
    fit_pairwise_head,
    fit_regression_head,
    nb101_cells,
    pretrain_encoder,
    sample_design_spaces,
    split_nb101,
    train_estimator,
    widths_of_nb101,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def graphs():
    return random_networks(120, seed=2, cells=(3, 8))


def test_split_is_disjoint_seeded_and_80_10_10():
    train, val1, val2 = split_nb101(20001, seed=0)
    assert (len(train), len(val1), len(val2)) == (16001, 2000, 2000)
    assert len(np.union1d(np.union1d(train, val1), val2)) == 20001
    again = split_nb101(20001, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((train, val1, val2), again))
    assert not np.array_equal(val1, split_nb101(20001, seed=1)[1])


def test_design_space_samples_cover_every_other_family_and_are_seeded():
    from gennape import families

    graphs = sample_design_spaces(2, seed=0)
    assert len(graphs) == 2 * (len(families.names()) - 1)
    assert all(g.validate() is g for g in graphs)
    again, other = sample_design_spaces(2, seed=0), sample_design_spaces(2, seed=1)
    assert all(a == b for a, b in zip(graphs, again))
    assert any(a != b for a, b in zip(graphs, other))


def test_every_named_preset_builds_and_variants_differ_from_the_default():
    from gennape.training import PRESETS

    default = TrainConfig()
    assert TrainConfig.preset("default") == default
    for name in set(PRESETS) - {"default"}:
        assert TrainConfig.preset(name) != default, name
    assert TrainConfig.preset("paper").tune_epochs == 0 and not TrainConfig.preset("paper").head_flops_input
    assert default.cl_samples_per_family == 0 < TrainConfig.preset("all_families").cl_samples_per_family


def test_contrastive_pretraining_lowers_the_loss(graphs):
    config = TrainConfig(cl_epochs=4, cl_batch_size=40, dropout=0.1)
    spectra = laplacian_spectra(graphs)
    encoder, history = pretrain_encoder(graphs[:80], spectra[:80], config, seed=0, val=(graphs[80:], spectra[80:]))
    assert history["train"][-1] < history["train"][0]
    assert history["val"][history["best_epoch"] - 1] == min(history["val"])
    emb = encoder.embed(graphs)
    assert emb.shape == (len(graphs), config.dim) and np.isfinite(emb).all()


def test_regression_heads_learn_a_function_of_the_embeddings():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(600, 33)).astype(np.float32)  # 32-d embeddings and the log10 GFLOPs column
    y = np.tanh(h[:, 0] - h[:, 1]) + 0.5 * h[:, 32]
    u = rng.dirichlet(np.ones(3), size=600)
    config = TrainConfig(head_epochs=15)
    assert config.head_flops_input
    for u_train, u_val in ((None, None), (u[:500], u[500:])):
        member, history = fit_regression_head(h[:500], y[:500], u_train, config=config, seed=0, flops_aware=True,
                                              val=(h[500:], y[500:], u_val))
        assert history["train"][-1] < 0.5 * history["train"][0]
        assert min(history["val"]) < 0.3 * np.var(y[500:])  # well below predicting the mean
        assert member.target == "eq5"
    with pytest.raises(GennapeError, match="reads 33 columns"):
        fit_regression_head(h[:, :32], y, config=config, seed=0, flops_aware=True)


def test_pairwise_head_ranks_and_skips_tied_pairs():
    rng = np.random.default_rng(1)
    h = rng.normal(size=(400, 33)).astype(np.float32)
    acc = 90 + 3 * np.tanh(h[:, 2] + h[:, 32])
    config = TrainConfig(pair_epochs=10)
    _, history = fit_pairwise_head(h[:300], acc[:300], config=config, seed=0, val=(h[300:], acc[300:], None))
    assert -min(history["val"]) > 0.8  # validation Spearman of the per-graph score
    _, history = fit_pairwise_head(h, np.full(400, 90.0), config=TrainConfig(pair_epochs=2), seed=0)
    assert np.isnan(history["train"]).all()  # every pair is closer than 1e-4: nothing to learn from


@pytest.mark.parametrize("average_last", [0, 3])
def test_fit_ends_at_the_best_epoch_or_the_mean_of_the_last_epochs(average_last):
    torch.manual_seed(0)
    module = torch.nn.Linear(4, 1)
    x, y = torch.randn(64, 4), torch.randn(64)
    snapshots, val = [], [0.5, 0.2, 0.9, 0.7, 0.8]  # end-of-epoch weights; a made-up validation loss, best at epoch 2

    def val_loss():
        snapshots.append(torch.cat([p.detach().clone().ravel() for p in module.parameters()]))
        return val[len(snapshots) - 1]

    history = fit(module, lambda idx, rng: torch.nn.functional.mse_loss(module(x[idx]).squeeze(-1), y[idx]), 64,
                   epochs=5, batch_size=8, lr=0.05, seed=0, name="t", val_loss=val_loss, average_last=average_last)
    final = torch.cat([p.detach().ravel() for p in module.parameters()])
    expected = torch.stack(snapshots[-average_last:]).mean(0) if average_last else snapshots[1]
    assert torch.allclose(final, expected, atol=1e-6)
    assert history["averaged_epochs"] == average_last and history["best_epoch"] == 2
    assert not torch.allclose(snapshots[1], snapshots[-1])  # the weights did move: the check can fail


def test_op_dropout_is_a_training_augmentation_of_the_nb101_stages_only():
    assert TrainConfig().op_dropout == 0.15 and TrainConfig.preset("no_op_dropout").op_dropout == 0.0
    # pre-registered scope: never in fine-tuning; the paper's schedule has none
    assert FineTuneConfig().stage_config().op_dropout == 0.0 and TrainConfig.preset("paper").op_dropout == 0.0


def test_width_settings_and_flops_centring_of_the_default_and_the_presets():
    assert TrainConfig().width_augmentation == () and TrainConfig.preset("width_augmentation").width_augmentation
    assert TrainConfig().cl_width_views == (16, 32, 64, 128)
    # the old default, the alternative and the unlabelled other families come without them
    for preset in ("no_cl_width_views", "width_augmentation", "all_families"):
        assert TrainConfig.preset(preset).cl_width_views == ()
    assert TrainConfig.preset("quick").flops_centring and not TrainConfig.preset("no_flops_centring").flops_centring


@pytest.mark.data("raw/nasbench101")
def test_width_augmentation_reads_each_nb101_training_cell_at_random_widths():
    records = load("nb101")[:20]
    graphs = [network_graph(r.spec) for r in records]
    versions = widths_of_nb101(graphs, (16, 128))
    assert versions[1] == graphs
    assert all(n.flops * 40 < g.flops for n, g in zip(versions[0], graphs))  # 8x narrower: ~64x fewer MACs
    reads = RandomWidths(versions, seed=0, stage="cl")
    assert len(reads) == 20
    picks = [reads[3] for _ in range(40)]
    assert all(p is versions[0][3] or p is versions[1][3] for p in picks)
    assert {p is versions[0][3] for p in picks} == {True, False}  # both widths come up
    # each (seed, stage) has its own stream: reproducible, independent of the other stages
    def draws(stage):
        reads = RandomWidths(versions, 0, stage)
        return [reads[i] is versions[0][i] for i in range(20)]

    assert draws("cl") == draws("cl") and draws("cl") != draws("tune")


@pytest.mark.data("raw/nasbench101")
def test_cl_width_views_train_only_the_contrastive_stage_on_other_widths(tmp_path, caplog):
    config = dataclasses.replace(TrainConfig.preset("quick"), cl_width_views=(16, 128), baselines=())
    with caplog.at_level(logging.INFO, logger="gennape.training"):
        train_estimator(config, seed=0, out_dir=tmp_path)
    assert "stem widths [16, 128]" in caplog.text
    assert json.loads((tmp_path / "config.json").read_text())["cl_width_views"] == [16, 128]
    with pytest.raises(GennapeError, match="alternatives"):
        train_estimator(dataclasses.replace(config, width_augmentation=(16, 128)), seed=0, out_dir=tmp_path / "b")


def test_the_default_averages_the_last_half_of_each_supervised_stage():
    config = TrainConfig()
    assert config.averaged_epochs(40) == 20 and config.averaged_epochs(15) == 8
    assert TrainConfig.preset("no_weight_averaging").averaged_epochs(40) == 0
    # pre-registered scope: neither fine-tuning (no validation, last epoch) nor the paper's schedule averages
    assert FineTuneConfig().stage_config().averaged_epochs(100) == 0
    assert TrainConfig.preset("paper").averaged_epochs(40) == 0
    rng = np.random.default_rng(0)
    h = rng.normal(size=(200, 33)).astype(np.float32)
    _, history = fit_regression_head(h, h[:, 0], config=TrainConfig(head_epochs=5, weight_averaging=True), seed=0,
                                     flops_aware=True, val=(h, h[:, 0], None))
    assert history["averaged_epochs"] == 3


@pytest.mark.parametrize("conv", ["kgnn", "gcn", "gin"])
def test_end_to_end_gnns_train_on_graphs(graphs, conv):
    y = np.log10(np.array([g.flops for g in graphs], dtype=float))
    y = (y - y.mean()) / y.std()
    config = TrainConfig(gnn_epochs=8, gnn_batch_size=10, gnn_lr=3e-3)
    member, history = fit_gnn(graphs[:100], y[:100], conv, config=config, seed=0, val=(graphs[100:], y[100:]))
    assert np.isfinite(history["train"]).all() and history["train"][-1] < history["train"][0]
    assert member.args["conv"] == conv


@pytest.mark.data("raw/nasbench101")
def test_quick_preset_end_to_end_and_resume(tmp_path, caplog):
    config = TrainConfig.preset("quick")
    est = train_estimator(config, seed=0, out_dir=tmp_path)
    metrics = Estimator.load(tmp_path / "estimator").info["nb101_val2"]
    assert set(ENSEMBLE) | {"cl_fcm", "cl", "gennape"} <= set(metrics)
    for m in metrics.values():
        assert -1 <= m["spearman"] <= 1 and 0 <= m["ndcg@10"] <= 1
    assert 0 < metrics["cl_fcm_t"]["mae"] < 20  # percent
    assert set(est.scales) == set(est.members)
    with caplog.at_level(logging.INFO, logger="gennape.training"):
        again = train_estimator(config, seed=0, out_dir=tmp_path)
    assert "stage encoder: loaded" in caplog.text and "epoch" not in caplog.text
    graphs = random_networks(5, seed=9)
    np.testing.assert_array_equal(again.predict(graphs), est.predict(graphs))
    # a run written before weight averaging existed read best epochs: it resumes as such, not as the default
    old = dataclasses.replace(config, weight_averaging=False)
    old_dir = tmp_path / "old"
    train_estimator(old, seed=0, out_dir=old_dir)
    run = json.loads((old_dir / "config.json").read_text())
    del run["weight_averaging"]
    (old_dir / "config.json").write_text(json.dumps(run))
    train_estimator(old, seed=0, out_dir=old_dir)
    with pytest.raises(GennapeError, match="another config"):
        train_estimator(config, seed=0, out_dir=old_dir)


@pytest.mark.data("raw/nasbench101")
def test_flops_centring_is_a_prediction_setting_that_resumes_every_stage(tmp_path, caplog):
    config = dataclasses.replace(TrainConfig.preset("quick"), baselines=())
    assert config.flops_centring and not TrainConfig.preset("no_flops_centring").flops_centring
    centred = train_estimator(config, seed=0, out_dir=tmp_path)
    graphs, _ = nb101_cells(config.max_cells)
    train, _, _ = split_nb101(len(graphs), config.split_seed)
    assert centred.flops_centre == pytest.approx(np.median(np.log10([graphs[i].flops for i in train]) - 9))
    with caplog.at_level(logging.INFO, logger="gennape.training"):
        plain = train_estimator(dataclasses.replace(config, flops_centring=False), seed=0, out_dir=tmp_path)
    assert "epoch" not in caplog.text  # every stage loaded: the checkpoints do not depend on it
    assert plain.flops_centre is None and not json.loads((tmp_path / "config.json").read_text())["flops_centring"]
    others = random_networks(20, seed=3)  # far from NB-101's cost: the shift matters
    assert abs(centred.shift_of(others)) > 0.1
    assert not np.allclose(centred.predict(others, member="cl_fcm_t"), plain.predict(others, member="cl_fcm_t"))


def test_cli_train_refuses_unknown_preset(tmp_path):
    from typer.testing import CliRunner

    from gennape.cli import app

    result = CliRunner().invoke(app, ["train", str(tmp_path), "--preset", "huge"])
    assert result.exit_code == 2 and "unknown training preset 'huge'" in result.output
