"""The reproduction in miniature: quick training, one seed, two small families subsampled, one
fine-tuning epoch, everything written into temporary folders; a rerun skips the finished seed."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gennape import reproduce as rp
from gennape.evaluation import EVAL_SETS, load_sets
from gennape.reproduce import runner
from gennape.errors import GennapeError
from gennape.estimator import Estimator

torch.set_num_threads(1)
SETS = ["transnas_micro/class_scene", "transnas_macro/class_object"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("reproduce")
    kwargs = {"seeds": [0], "quick": True, "runs_dir": root / "runs", "datasets": SETS,
              "weights_dir": root / "weights", "max_records": 150, "epochs": 1}
    agg = rp.reproduce(root / "results", **kwargs)
    return root, kwargs, agg


@pytest.mark.data("raw/nasbench101", "raw/transnas_bench101_zc")
def test_tables_plots_and_weights_are_written(run):
    root, _, _ = run
    results = root / "results"
    for name in ("table3_nb101.md", "table4_mae.md", "table5_srcc.md", "table6_ndcg.md", "kendall.md", "topk.md",
                 "README.md", "reproduce.log"):
        assert (results / name).stat().st_size > 0, name
    srcc = (results / "table5_srcc.md").read_text()
    assert "TransNAS micro scene" in srcc and "TransNAS macro object" in srcc and "Label sources" in srcc
    table3 = (results / "table3_nb101.md").read_text()
    assert "| CL+FCM+T |" in table3 and "0.930" in table3  # ours beside the paper's number
    for name in ("zero_shot_accuracy.png", "zero_shot_rank.png", "embedding_map.png"):
        assert (results / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shipped = Estimator.load(root / "weights")
    assert shipped.info["seed"] == 0
    assert "Seed 0" in (results / "README.md").read_text()


@pytest.mark.data("raw/nasbench101", "raw/transnas_bench101_zc")
def test_the_shipped_estimator_is_evaluated_over_fine_tuning_seeds(run):
    root, _, _ = run
    raw = json.loads((root / "results" / "raw" / "shipped.json").read_text())
    seed = json.loads((root / "results" / "raw" / "seed0.json").read_text())
    assert raw["setup"]["seed"] == 0 and raw["setup"]["fine_tuning_seeds"] == [0]
    for key in SETS:
        v = raw["sets"][key]
        # the shipped estimator is seed 0's: zero-shot, and fine-tuned with seed 0, it is that seed's own row
        for setting, ours in (("zero_shot", v["zero_shot"]), ("few_shot", v["few_shot"]["0"])):
            assert ours["gennape"]["spearman"] == pytest.approx(
                seed["sets"][key][setting]["gennape"]["spearman"], abs=1e-6), (key, setting)
    assert raw["nb101_val2"]["above"]["gennape"]["spearman"] == pytest.approx(
        seed["nb101_val2"]["above"]["gennape"]["spearman"], abs=1e-9)
    table = (root / "results" / "shipped.md").read_text()
    assert "The shipped estimator (seed 0)" in table and "| TransNAS micro scene |" in table


@pytest.mark.data("raw/nasbench101", "raw/transnas_bench101_zc")
def test_seed_numbers_are_finite_and_in_range(run):
    root, _, _ = run
    result = json.loads((root / "results" / "raw" / "seed0.json").read_text())
    assert set(result["sets"]) == set(SETS)
    for key, v in result["sets"].items():
        assert v["n"] == 150
        assert "gcn" in v["zero_shot"] and "gcn" not in v["few_shot"]  # a reported baseline, not a member
        for setting in ("zero_shot", "few_shot"):
            assert {"gennape", "flops", "params", "cl_fcm_t", "kgnn"} <= set(v[setting])
            for method, m in v[setting].items():
                assert -1 <= m["spearman"] <= 1 and -1 <= m["kendall_tau"] <= 1, (key, method)
                assert 0 <= m["ndcg@10"] <= 1 and 0 <= m["top10%_precision"] <= 1, (key, method)
                assert m.get("mae", 0.0) >= 0 and all(math.isfinite(x) for x in m.values()), (key, method)
    assert result["nb101_val2"]["above"]["cl_fcm_t"]["mae"] >= 0


@pytest.mark.data("raw/nasbench101", "raw/transnas_bench101_zc")
def test_rerun_skips_the_finished_seed(run, monkeypatch):
    root, kwargs, agg = run
    raw = root / "results" / "raw" / "seed0.json"
    before = raw.read_text()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished seed was trained again")

    monkeypatch.setattr(runner, "train_estimator", no_training)
    again = rp.reproduce(root / "results", **kwargs)
    assert raw.read_text() == before
    assert again == agg
    assert "seed 0: finished before, skipped" in (root / "results" / "reproduce.log").read_text()


@pytest.mark.data("raw/nasbench101", "raw/transnas_bench101_zc")
def test_seeds_finished_in_another_session_are_aggregated(run):
    root, kwargs, _ = run
    raw = root / "results" / "raw"
    other = json.loads((raw / "seed0.json").read_text())
    other["seed"] = 7
    (raw / "seed7.json").write_text(json.dumps(other))
    stale = {**other, "seed": 8, "setup": {**other["setup"], "epochs": 99}}  # other settings: ignored
    (raw / "seed8.json").write_text(json.dumps(stale))
    agg = rp.reproduce(root / "results", **kwargs)
    assert agg["sets"][SETS[0]]["zero_shot"]["gennape"]["spearman"][2] == 2
    assert "over 2 seed(s) (0, 7)" in (root / "results" / "table5_srcc.md").read_text()


def test_aggregate_is_mean_and_sample_std_over_seeds():
    def result(value):
        return {"nb101_val2": {"all": {"gennape": {"spearman": value}}},
                "sets": {"nb301": {"zero_shot": {"flops": {"spearman": value}}, "few_shot": {}}}}

    agg = rp.aggregate([result(0.5), result(0.7)])
    mean, std, n = agg["sets"]["nb301"]["zero_shot"]["flops"]["spearman"]
    assert (mean, n) == (pytest.approx(0.6), 2) and std == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert agg["nb101_val2"]["all"]["gennape"]["spearman"][2] == 2


def test_unknown_evaluation_set_is_refused(tmp_path):
    with pytest.raises(GennapeError, match="unknown evaluation set.*imagenet"):
        rp.reproduce(tmp_path, seeds=[0], quick=True, runs_dir=tmp_path, datasets=["imagenet"], weights_dir=None)


@pytest.mark.data("raw/nasbench101", "raw/transnas_bench101_zc")
def test_comparison_of_two_presets_pairs_their_common_seeds(run, tmp_path):
    root, kwargs, _ = run
    reference = json.loads((root / "results" / "raw" / "seed0.json").read_text())
    variant = json.loads(json.dumps(reference))
    variant["setup"]["train"]["node_features"] = "gennape"
    variant["setup"]["train"]["new_setting"] = 3  # a setting the reference's code did not know
    variant["setup"]["code"] = "another version"
    variant["sets"][SETS[0]]["zero_shot"]["kgnn"]["spearman"] = 0.123
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "seed0.json").write_text(json.dumps(variant))
    (tmp_path / "raw" / "seed_ensemble.json").write_text(json.dumps({"setup": {}}))  # not a seed: skipped
    runner._write_comparison(root / "results", tmp_path)
    text = (tmp_path / "comparison.md").read_text()
    assert "`node_features` 'attributes' -> 'gennape'" in text and "seed(s) 0" in text
    assert "`new_setting` absent -> 3" in text and "Different code digest" in text
    ref_kgnn = reference["sets"][SETS[0]]["zero_shot"]["kgnn"]["spearman"]
    assert f"{ref_kgnn:.3f} / 0.123" in text
    assert "No seed finished under both" in rp.comparison({}, {0: variant}, ("a", "b"))


@pytest.mark.data("raw/nasbench101", "raw/transnas_bench101_zc")
def test_seed_ensemble_stage_evaluates_the_mean_of_the_seeds_and_resumes(run, tmp_path, monkeypatch):
    import shutil

    from gennape.estimator import SeedEnsemble
    from gennape.training import TrainConfig

    root, kwargs, agg = run
    runs = tmp_path / "runs"
    for seed in (0, 7):  # a second "seed": the same estimator under another name
        shutil.copytree(root / "runs" / "quick" / "nb101_seed0" / "estimator", runs / f"nb101_seed{seed}" / "estimator")
    result = json.loads((root / "results" / "raw" / "seed0.json").read_text())
    sets = [EVAL_SETS.get(k) for k in SETS]
    data = load_sets(sets, kwargs["max_records"])
    config = TrainConfig.preset("quick")
    setup = rp.settings(config, sets, 50, 1, kwargs["max_records"])
    ens = runner._seed_ensemble_stage(tmp_path, runs, {0: result, 7: result}, agg, sets, data, setup, config, 50, 1)
    assert isinstance(ens, SeedEnsemble) and len(ens.estimators) == 2
    raw = json.loads((tmp_path / "raw" / "seed_ensemble.json").read_text())
    assert raw["setup"]["seeds"] == [0, 7] and set(raw["sets"]) == set(SETS)
    for v in raw["sets"].values():
        assert set(v["few_shot"]) == {"0", "7"}
        for m in [v["zero_shot"], *v["few_shot"].values()]:
            assert -1 <= m["gennape"]["spearman"] <= 1 and "mae" not in m["gennape"] and m["cl_fcm_t"]["mae"] >= 0
    # two copies of one estimator average to that estimator: its zero-shot numbers are the seed's own
    zs = result["sets"][SETS[0]]["zero_shot"]["gennape"]["spearman"]
    assert raw["sets"][SETS[0]]["zero_shot"]["gennape"]["spearman"] == pytest.approx(zs, abs=1e-9)
    # ... and so are its NB-101 validation-2 numbers: every seed of a preset holds out the same cells
    for part in ("above", "all"):
        assert raw["nb101_val2"][part]["gennape"]["spearman"] == pytest.approx(
            result["nb101_val2"][part]["gennape"]["spearman"], abs=1e-9)
        assert raw["nb101_val2"][part]["cl_fcm_t"]["mae"] == pytest.approx(
            result["nb101_val2"][part]["cl_fcm_t"]["mae"], abs=1e-9)
    table = (tmp_path / "seed_ensemble.md").read_text()
    assert "2 seeds averaged" in table and "| val-2 >= 80 % |" in table and "| all val-2 |" in table

    def no_fine_tuning(*args, **kwargs):
        raise AssertionError("a finished fine-tuning seed was redone")

    monkeypatch.setattr(SeedEnsemble, "fine_tune", no_fine_tuning)
    runner._seed_ensemble_stage(tmp_path, runs, {0: result, 7: result}, agg, sets, data, setup, config, 50, 1)
    assert runner._seed_ensemble_stage(tmp_path, runs, {0: result}, agg, sets, data, setup, config, 50, 1) is None
