"""One command that reproduces GENNAPE's evaluation: for each seed, train the estimator on NB-101
(:func:`gennape.train.train_estimator`), evaluate it in family (NB-101 validation-2) and zero-shot
and 50-shot on every labelled family, write the seed's numbers to ``results/raw/seed{seed}.json``,
then aggregate every finished seed into the paper-shaped Markdown tables, draw the plots, and ship
the seed with the best NB-101 validation-2 ensemble Spearman as the package's weights.

Resumable at three levels: training stages (checkpoints in ``runs/reproduce/<preset>/nb101_seed{seed}``), data sets
within a seed (``evaluation.json`` there), and whole seeds (``results/raw/seed{seed}.json`` is
skipped when it was made with the same settings). Progress goes to ``results/reproduce.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from safetensors.torch import load_file

from . import SEED_ENSEMBLE_SUBDIR, evaluate, plots
from .data import family_of, load
from .data.graph_cache import dataset_graphs
from .errors import GennapeError
from .estimator import WEIGHTS_DIR, Estimator, GNNMember
from .files import save_npz_atomically
from .graph.compute_graph import ComputeGraph
from .metrics import summary
from .provenance import code_digest
from .seed_ensemble import SeedEnsemble
from .train import PRESETS, TrainConfig, load_nb101, split_nb101, train_estimator

log = logging.getLogger("gennape.reproduce")

EVAL_VERSION = 1  # bump when the protocol changes, so finished seeds are redone
SEEDS = (0, 1, 2, 3, 4)
QUICK_RECORDS = 300  # records per data set in the quick preset
QUICK_EPOCHS = 2  # fine-tuning epochs in the quick preset
EMBEDDING_SAMPLE = 300  # graphs per family in the embedding map


@dataclass(frozen=True)
class EvalSet:
    """One row of the family tables: data set ``dataset`` labelled by ``label`` (a key of the
    records' ``extra``; None = the record's own accuracy), described by ``source``; ``paper`` names
    the GENNAPE table row it corresponds to, if any."""
    key: str
    dataset: str
    title: str
    source: str
    label: str | None = None
    paper: str | None = None


NB101_SOURCE = ("NB-101: CIFAR-10 108-epoch validation accuracy (one run), 20,001-cell uniform sample "
                "(the paper: 50k cells); seeded 80/10/10 split, numbers on validation-2")
EVAL_SETS = (
    EvalSet("nb201/no_none", "nb201/no_none", "NB-201 (4,096 cells w/o none)",
            "CIFAR-10 test accuracy, 200 epochs, mean over seeds; the paper's 4,096 cells", paper="NB-201"),
    EvalSet("nb201/no_none:cifar100", "nb201/no_none", "NB-201 CIFAR-100 (4,096)",
            "CIFAR-100 test accuracy, 200 epochs; scored on the CIFAR-10 graphs (10-class head), as GENNAPE "
            "scores its CIFAR-10 CGs", label="cifar100_test_accuracy"),
    EvalSet("nb201/no_none:imagenet16_120", "nb201/no_none", "NB-201 ImageNet16-120 (4,096)",
            "ImageNet16-120 test accuracy, 200 epochs; scored on the CIFAR-10 graphs, as GENNAPE does",
            label="imagenet16_120_test_accuracy"),
    EvalSet("nb201", "nb201", "NB-201 (all 15,625 cells)", "CIFAR-10 test accuracy, 200 epochs, mean over seeds"),
    EvalSet("ofa_mbv3/dynast", "ofa_mbv3/dynast", "OFA-MBv3 DyNAS-T",
            "ImageNet top-1 at 224 px, OFA-MBv3 w1.0 (MIT), 2,162 subnets found by searches (the paper: w1.2, "
            "7.5k random subnets)", paper="OFA-MBv3"),
    EvalSet("ofa_mbv3/moofa_mit", "ofa_mbv3/moofa_mit", "OFA-MBv3 MOOFA (MIT)",
            "ImageNet top-1 at 128/160/192 px, OFA-MBv3 w1.0 (MIT weights), 2,610 subnets", paper="OFA-MBv3"),
    EvalSet("ofa_mbv3/moofa_compofa", "ofa_mbv3/moofa_compofa", "OFA-MBv3 MOOFA (CompOFA)",
            "ImageNet top-1 at 128/160/192 px, CompOFA w1.0 weights, 2,080 subnets", paper="OFA-MBv3"),
    EvalSet("nb301", "nb301", "NB-301 (surrogate labels)",
            "surrogate labels: NB-301 v1.0 XGBoost prediction of CIFAR-10 validation accuracy, 725 DARTS genotypes "
            "(the paper: 10k trained)", paper="NB-301"),
    EvalSet("nas_bench_macro", "nas_bench_macro", "NAS-Bench-Macro",
            "CIFAR-10 test accuracy, mean of 3 runs, 3,969 distinct networks"),
    EvalSet("accel_nasbench", "accel_nasbench", "Accel-NASBench",
            "ImageNet top-1 after a cheaper searched training proxy, 5,138 networks"),
    EvalSet("transnas_macro/class_object", "transnas_macro/class_object", "TransNAS macro object",
            "Taskonomy object classification top-1, 662 networks"),
    EvalSet("transnas_macro/class_scene", "transnas_macro/class_scene", "TransNAS macro scene",
            "Taskonomy scene classification top-1, 662 networks"),
    EvalSet("transnas_micro/class_object", "transnas_micro/class_object", "TransNAS micro object",
            "Taskonomy object classification top-1, 711 networks"),
    EvalSet("transnas_micro/class_scene", "transnas_micro/class_scene", "TransNAS micro scene",
            "Taskonomy scene classification top-1, 711 networks"),
)
EVAL_SET_BY_KEY = {s.key: s for s in EVAL_SETS}

# --- the paper's numbers (GENNAPE.md §9) ------------------------------------------------------------
PAPER_TABLE3 = {"gcn": (1.78, 0.732), "gin": (1.72, 0.735), "kgnn": (1.61, 0.814), "cl": (1.51, 0.874),
                "cl_fcm": (1.19, 0.896), "cl_t": (0.65, 0.921), "cl_fcm_t": (0.59, 0.930)}  # (MAE %, SRCC)
PAPER_TABLE4 = {  # 50-shot MAE (%) of k-GNN, CL, CL+T, CL+FCM+T
    "NB-101": {"kgnn": 1.61, "cl": 1.51, "cl_t": 0.65, "cl_fcm_t": 0.59},
    "NB-201": {"kgnn": 1.80, "cl": 2.81, "cl_t": 1.93, "cl_fcm_t": 2.05},
    "NB-301": {"kgnn": 0.46, "cl": 0.85, "cl_t": 0.43, "cl_fcm_t": 0.57},
    "OFA-MBv3": {"kgnn": 0.61, "cl": 0.35, "cl_t": 0.31, "cl_fcm_t": 0.27}}
PAPER_TABLE5 = {  # SRCC: (k-GNN zero-shot, GENNAPE zero-shot, k-GNN 50-shot, GENNAPE 50-shot)
    "NB-201": (0.4930, 0.8146, 0.8606, 0.9103), "NB-301": (0.0642, 0.3214, 0.8584, 0.8825),
    "OFA-MBv3": (0.4345, 0.8660, 0.6862, 0.9449)}
PAPER_TABLE6 = {  # NDCG@10, same columns
    "NB-201": (0.9270, 0.9793, 0.9751, 0.9855), "NB-301": (0.5341, 0.7885, 0.9723, 0.9765),
    "OFA-MBv3": (0.8464, 0.9234, 0.8859, 0.9838)}

METHOD_NAMES = {"cl_fcm_t": "CL+FCM+T", "cl_t": "CL+T", "cl_fcm": "CL+FCM", "cl": "CL",
                "cl_pairwise_fcm": "CL+Pairwise+FCM", "cl_pairwise": "CL+Pairwise", "kgnn": "k-GNN", "gcn": "GCN",
                "gin": "GIN", "gennape": "GENNAPE",
                "gennape_nb101": "GENNAPE (NB-101 z-scores)", "flops": "FLOPs", "params": "params"}
METHOD_ORDER = tuple(METHOD_NAMES)


# --- one seed --------------------------------------------------------------------------------------
def settings(config: TrainConfig, sets: Sequence[EvalSet], k: int, epochs: int, max_records: int | None) -> dict:
    """Everything a seed's numbers depend on besides the seed, the code that computes them included:
    a finished seed is reused only if equal."""
    setup = {"eval_version": EVAL_VERSION, "code": code_digest("gennape.train") + code_digest("gennape.evaluate"),
             "train": dataclasses.asdict(config), "sets": [s.key for s in sets], "k": k, "epochs": epochs,
             "max_records": max_records}
    return json.loads(json.dumps(setup))  # as it reads back from a file: tuples become lists


def load_sets(sets: Sequence[EvalSet], max_records: int | None = None
              ) -> dict[str, tuple[list[ComputeGraph], np.ndarray]]:
    """{key: (graphs, accuracies in percent)} of every eval set, graphs from the cache (built once,
    shared by the sets of one data set); with ``max_records`` a fixed random subsample of each."""
    out, cache = {}, {}
    for s in sets:
        if s.dataset not in cache:
            records = load(s.dataset)
            keep = np.arange(len(records))
            if max_records is not None and max_records < len(records):
                keep = np.sort(np.random.default_rng(0).choice(len(records), max_records, replace=False))
            graphs = dataset_graphs(s.dataset, progress=False)
            cache[s.dataset] = ([records[i] for i in keep], [graphs[i] for i in keep])
        records, graphs = cache[s.dataset]
        acc = np.array([r.accuracy if s.label is None else r.extra[s.label] for r in records], dtype=np.float64)
        out[s.key] = (graphs, acc)
    return out


def with_baselines(est: Estimator, run_dir: Path, config: TrainConfig) -> Estimator:
    """``est`` plus the extra end-to-end GNNs (GCN, GIN) that training checkpoints into ``run_dir``
    but does not ship, for reporting; the ensemble is unchanged."""
    extra = {}
    for conv in config.baselines:
        member = GNNMember(conv, config.dim, config.num_layers, config.node_features, config.gnn_flops_input)
        member.load_state_dict(load_file(run_dir / f"{conv}.safetensors"))
        extra[conv] = member
    return Estimator(est.encoder, est.fcm, est.transform, est.accuracy_stats, {**est.members, **extra},
                     est.scales, est.weights, est.info, est.common_scale, est.flops_centre, est.flops_shift)


def run_seed(seed: int, config: TrainConfig, sets: Sequence[EvalSet], data: dict, run_dir: Path, *,
             k: int, epochs: int, setup: dict) -> dict:
    """Train (or resume) one seed and evaluate it; returns the seed's result dict. Each finished
    data set is saved to ``run_dir/evaluation.json`` so that a killed run resumes there, and the
    zero-shot predictions (for the plots) to ``run_dir/zero_shot.npz``."""
    start = time.perf_counter()
    est = train_estimator(config, seed, run_dir)
    train_s = time.perf_counter() - start
    reported = with_baselines(est, run_dir, config)

    partial_path = run_dir / "evaluation.json"
    partial = json.loads(partial_path.read_text()) if partial_path.is_file() else {}
    per_set = {key: v for key, v in setup.items() if key != "sets"}  # a set's numbers do not depend on the others
    if partial.get("setup") != per_set:
        partial = {"setup": per_set, "sets": {}}

    start = time.perf_counter()
    graphs, acc = load_nb101(config.max_cells)
    _, _, val2 = split_nb101(len(graphs), config.split_seed)
    nb101 = evaluate.nb101_val2(reported, graphs, acc, val2, config.min_accuracy)
    nb101_s = time.perf_counter() - start
    log.info("seed %d NB-101 val-2 (>= %g %%): GENNAPE SRCC %.4f, CL+FCM+T MAE %.3f (%.0f s)", seed,
             config.min_accuracy, nb101["above"]["gennape"]["spearman"], nb101["above"]["cl_fcm_t"]["mae"], nb101_s)

    predictions_path = run_dir / "zero_shot.npz"
    predictions = dict(np.load(predictions_path, allow_pickle=False)) if predictions_path.is_file() else {}
    for s in sets:
        if s.key in partial["sets"] and f"{s.key}|gennape" in predictions:
            continue
        g, a = data[s.key]
        t0 = time.perf_counter()
        scores = evaluate.method_scores(reported, g, evaluate.methods_of(reported))
        zs = evaluate.score_metrics(reported, scores, a)
        t1 = time.perf_counter()
        with _quiet("gennape.train"):  # 100 epochs x every member x every family would swamp the log
            fs = evaluate.few_shot(est, g, a, seed, k=k, epochs=epochs)
        t2 = time.perf_counter()
        partial["sets"][s.key] = {"n": len(g), "zero_shot": zs, "few_shot": fs,
                                  "seconds": {"zero_shot": t1 - t0, "few_shot": t2 - t1}}
        predictions.update({f"{s.key}|accuracy": a, f"{s.key}|gennape": scores["gennape"],
                            f"{s.key}|cl_fcm_t": scores["cl_fcm_t"]})
        _save_npz(predictions_path, predictions)
        _write_json(partial_path, partial)
        log.info("seed %d %-30s n=%-6d SRCC zero-shot GENNAPE %.3f (FLOPs %.3f), 50-shot GENNAPE %.3f "
                 "(FLOPs %.3f) [%.0f s + %.0f s]", seed, s.key, len(g), zs["gennape"]["spearman"],
                 zs["flops"]["spearman"], fs["gennape"]["spearman"], fs["flops"]["spearman"], t1 - t0, t2 - t1)
    return {"setup": setup, "seed": seed, "nb101_val2": nb101, "sets": {s.key: partial["sets"][s.key] for s in sets},
            "seconds": {"train": train_s, "nb101": nb101_s,
                        "sets": sum(sum(partial["sets"][s.key]["seconds"].values()) for s in sets)}}


# --- one fixed estimator over fine-tuning seeds: the seed ensemble, the shipped seed -------------------
def over_fine_tuning_seeds(est: Estimator | SeedEnsemble, sets: Sequence[EvalSet], data: dict,
                           ft_seeds: Sequence[int], state_dir: Path, setup: dict, *, k: int, epochs: int) -> dict:
    """{set key: {"n", "zero_shot": {method: metrics}, "few_shot": {fine-tuning seed: {method: metrics}}}}
    of one fixed estimator ``est`` (an :class:`Estimator` or a :class:`SeedEnsemble`): "gennape" (its
    ``predict``) and "cl_fcm_t" (its accuracy estimate, with MAE). Zero-shot once; 50-shot once per
    fine-tuning seed of ``ft_seeds``, on the samples :func:`evaluate.finetune_split` draws for it (the
    paper's protocol for its shipped model). Resumable: each set's numbers go to
    ``state_dir/<set>.json`` after every fine-tuning seed."""
    out = {}
    for s in sets:
        path = state_dir / (s.key.replace("/", "__").replace(":", "--") + ".json")
        state = json.loads(path.read_text()) if path.is_file() else {}
        if state.get("setup") != setup:
            state = {"setup": setup, "few_shot": {}}
        g, a = data[s.key]
        if "zero_shot" not in state:
            state["zero_shot"] = _ensemble_metrics(_ensemble_scores(est, g), a)
            _write_json(path, state)
        for ft_seed in ft_seeds:
            if str(ft_seed) in state["few_shot"]:
                continue
            t0 = time.perf_counter()
            tune, test = evaluate.finetune_split(len(g), ft_seed, k)
            with _quiet("gennape.train"):
                tuned = est.fine_tune([g[i] for i in tune], a[tune], epochs=epochs, seed=ft_seed)
            state["few_shot"][str(ft_seed)] = _ensemble_metrics(_ensemble_scores(tuned, [g[i] for i in test]),
                                                                a[test])
            _write_json(path, state)
            log.info("%s %-30s fine-tuning seed %d: 50-shot SRCC %.3f [%.0f s]", state_dir.name, s.key, ft_seed,
                     state["few_shot"][str(ft_seed)]["gennape"]["spearman"], time.perf_counter() - t0)
        out[s.key] = {"n": len(g), "zero_shot": state["zero_shot"],
                      "few_shot": {str(f): state["few_shot"][str(f)] for f in ft_seeds}}
        log.info("%s %-30s zero-shot SRCC %.3f", state_dir.name, s.key, state["zero_shot"]["gennape"]["spearman"])
    return out


def nb101_val2_of(est: Estimator | SeedEnsemble, config: TrainConfig) -> dict:
    """NB-101 validation-2 metrics of ``est`` in the shape of :func:`over_fine_tuning_seeds`
    ({"all", "above"} as :func:`evaluate.nb101_val2`): the cells every seed held out, as all seeds of a
    preset share one split (``TrainConfig.split_seed``)."""
    graphs, acc = load_nb101(config.max_cells)
    _, _, val2 = split_nb101(len(graphs), config.split_seed)
    scores, acc = _ensemble_scores(est, [graphs[i] for i in val2]), acc[val2]
    keep = acc >= config.min_accuracy
    return {"all": _ensemble_metrics(scores, acc),
            "above": _ensemble_metrics([s[keep] for s in scores], acc[keep])}


def _ensemble_scores(est: Estimator | SeedEnsemble, graphs: Sequence[ComputeGraph]) -> list[np.ndarray]:
    """[the GENNAPE ranking score, the accuracy estimate in percent]."""
    return [est.predict(graphs), est.predict_accuracy(graphs)]


def _ensemble_metrics(scores: Sequence[np.ndarray], acc: np.ndarray) -> dict:
    """{"gennape": ranking metrics of the score, "cl_fcm_t": those of the accuracy estimate, MAE included}."""
    ranking = summary(acc, scores[0])
    del ranking["mae"]  # a rank-scale score, not an accuracy
    return {"gennape": ranking, "cl_fcm_t": summary(acc, scores[1])}


# --- aggregation -----------------------------------------------------------------------------------
#: one seed's raw file (``seed_ensemble.json`` beside them is not one)
SEED_FILES = "seed[0-9]*.json"


def finished_seeds(raw_dir: Path, setup: dict) -> dict[int, dict]:
    """{seed: result} of every seed's file in ``raw_dir`` made with ``setup``."""
    out = {}
    for path in sorted(raw_dir.glob(SEED_FILES)):
        result = json.loads(path.read_text())
        if result.get("setup") == setup:
            out[result["seed"]] = result
    return out


def mean_std(values: Sequence[float]) -> tuple[float, float, int]:
    """(mean, sample std (0 for one value), count)."""
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v)


def aggregate(results: Sequence[dict]) -> dict:
    """Mean, std and count over seeds of every number, in the shape of one seed's result."""
    def merge(parts):
        if isinstance(parts[0], dict):
            return {key: merge([p[key] for p in parts]) for key in parts[0] if all(key in p for p in parts)}
        return mean_std(parts)
    return merge([{"nb101_val2": r["nb101_val2"], "sets": {k: {"zero_shot": v["zero_shot"], "few_shot": v["few_shot"]}
                                                           for k, v in r["sets"].items()}} for r in results])


def best_seed(results: dict[int, dict]) -> int:
    """The paper's rule: the seed whose ensemble has the highest NB-101 validation-2 Spearman (on
    the cells >= the accuracy threshold, where the Eq. 5 members are judged)."""
    return max(results, key=lambda s: results[s]["nb101_val2"]["above"]["gennape"]["spearman"])


# --- tables ----------------------------------------------------------------------------------------
def _cell(stat, digits: int = 3) -> str:
    if stat is None:
        return "-"
    mean, std, n = stat
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if n > 1 else f"{mean:.{digits}f}"


def _paper(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)]) + "\n"


def _methods(agg: dict, setting: str) -> list[str]:
    present = set()
    for v in agg["sets"].values():
        present |= set(v[setting])
    return [m for m in METHOD_ORDER if m in present]


def _header(title: str, n_seeds: int, seeds: Sequence[int]) -> str:
    return (f"# {title}\n\nOurs: mean ± sample std over {n_seeds} seed(s) ({', '.join(map(str, seeds))}); "
            "generated by `python -m gennape.reproduce` (see README.md). Paper: GENNAPE (Mills et al., AAAI-23).\n\n")


def _sources(keys: Sequence[str], nb101: bool = False) -> str:
    lines = ["\nLabel sources:\n"] + ([f"- {NB101_SOURCE}"] if nb101 else [])
    lines += [f"- {EVAL_SET_BY_KEY[k].title}: {EVAL_SET_BY_KEY[k].source}" for k in keys]
    return "\n".join(lines) + "\n"


def table3(agg: dict, header: str, min_accuracy: float) -> str:
    nb = agg["nb101_val2"]
    rows = []
    for m in METHOD_ORDER:
        if m not in nb["all"]:
            continue
        paper = PAPER_TABLE3.get(m, (None, None))
        rows.append([METHOD_NAMES[m], _cell(nb["above"][m].get("mae"), 2), _cell(nb["above"][m]["spearman"]),
                     _cell(nb["all"][m].get("mae"), 2), _cell(nb["all"][m]["spearman"]), _paper(paper[0], 2),
                     _paper(paper[1])])
    return (header + f"NB-101 in-family: trained on the training split, evaluated on validation-2. MAE in "
            f"percentage points, only for methods that output an accuracy (Eq. 5 members through the inverse "
            f"transform, raw regressors directly). The paper's val-2 excludes cells below {min_accuracy:g} %.\n\n"
            + _table(["method", f"MAE, val-2 >= {min_accuracy:g} %", f"SRCC, val-2 >= {min_accuracy:g} %",
                      "MAE, all val-2", "SRCC, all val-2", "paper MAE", "paper SRCC"], rows) + _sources([], True))


def table4(agg: dict, header: str, min_accuracy: float, k: int, epochs: int) -> str:
    methods = [m for m in _methods(agg, "few_shot") if any("mae" in v["few_shot"].get(m, {})
                                                           for v in agg["sets"].values())]
    paper_cols = ("kgnn", "cl", "cl_t", "cl_fcm_t")
    nb = agg["nb101_val2"]["above"]
    rows = [["NB-101 (in family, val-2)", *(_cell(nb[m].get("mae"), 2) if m in nb else "-" for m in methods),
             " / ".join(_paper(PAPER_TABLE4["NB-101"][m], 2) for m in paper_cols)]]
    for key, v in agg["sets"].items():
        s = EVAL_SET_BY_KEY[key]
        paper = PAPER_TABLE4.get(s.paper)
        rows.append([s.title, *(_cell(v["few_shot"][m].get("mae"), 2) if m in v["few_shot"] else "-"
                                for m in methods),
                     " / ".join(_paper(paper[m], 2) for m in paper_cols) if paper else "-"])
    return (header + f"MAE (percentage points) after fine-tuning on {k} random networks of the family ({epochs} "
            "epochs), on the held-out rest; NB-101 row: in family, validation-2 cells >= "
            f"{min_accuracy:g} %. Eq. 5 members use NB-101 statistics throughout, as in the paper.\n\n"
            + _table(["family", *(METHOD_NAMES[m] for m in methods),
                      "paper (k-GNN / CL / CL+T / CL+FCM+T)"], rows) + _sources(list(agg["sets"]), True))


def summary_table(agg: dict, metric: str, paper: dict) -> str:
    """The paper's Table 5/6 shape plus the best cheap baseline, one row per family."""
    rows = []
    for key, v in agg["sets"].items():
        s = EVAL_SET_BY_KEY[key]
        cheap = max(evaluate.CHEAP_BASELINES, key=lambda m: v["zero_shot"][m][metric][0])
        p = paper.get(s.paper)
        rows.append([s.title, _cell(v["zero_shot"]["kgnn"][metric]), _cell(v["zero_shot"]["gennape"][metric]),
                     _cell(v["few_shot"]["kgnn"][metric]), _cell(v["few_shot"]["gennape"][metric]),
                     f"{METHOD_NAMES[cheap]} {_cell(v['zero_shot'][cheap][metric])} / "
                     + _cell(v["few_shot"][cheap][metric]),
                     " / ".join(_paper(x) for x in p) if p else "-"])
    return _table(["family", "k-GNN zero-shot", "GENNAPE zero-shot", "k-GNN 50-shot", "GENNAPE 50-shot",
                   "best cheap baseline zero-shot / 50-shot", "paper (k-GNN ZS / GENNAPE ZS / k-GNN FT / GENNAPE FT)"],
                  rows)


def matrix(agg: dict, metric: str, setting: str) -> str:
    """Every method (columns) on every family (rows) for one metric and setting."""
    methods = _methods(agg, setting)
    rows = [[EVAL_SET_BY_KEY[k].title, *(_cell(v[setting][m][metric]) if m in v[setting] else "-" for m in methods)]
            for k, v in agg["sets"].items()]
    return _table(["family", *(METHOD_NAMES[m] for m in methods)], rows)


def metric_report(agg: dict, header: str, metric: str, label: str, paper: dict | None = None) -> str:
    text = header + ("Zero-shot: every network of the family, no fine-tuning. 50-shot: the estimator fine-tuned "
                     "on 50 random networks (the same ones for every method of a seed; see README.md for the "
                     "epochs), metrics on the rest; FLOPs and params are scored on the same held-out networks.\n\n")
    if paper is not None:
        text += f"## {label}, the paper's table shape\n\n" + summary_table(agg, metric, paper) + "\n"
    for setting, name in (("zero_shot", "zero-shot"), ("few_shot", "50-shot")):
        text += f"## {label}, {name}, every method\n\n" + matrix(agg, metric, setting) + "\n"
    return text + _sources(list(agg["sets"]))


def write_tables(agg: dict, out: Path, seeds: Sequence[int], min_accuracy: float, k: int, epochs: int) -> None:
    n = len(seeds)
    _write_text(out / "table3_nb101.md", table3(agg, _header("Table 3: NB-101 MAE and SRCC", n, seeds), min_accuracy))
    _write_text(out / "table4_mae.md", table4(agg, _header("Table 4: 50-shot MAE per family", n, seeds), min_accuracy,
                                                k, epochs))
    _write_text(out / "table5_srcc.md", metric_report(agg, _header("Table 5: SRCC per family", n, seeds),
                                                      "spearman", "SRCC", PAPER_TABLE5))
    _write_text(out / "table6_ndcg.md", metric_report(agg, _header("Table 6: NDCG@10 per family", n, seeds),
                                                      "ndcg@10", "NDCG@10", PAPER_TABLE6)
                + "\n" + metric_report(agg, "", "ndcg@50", "NDCG@50"))
    _write_text(out / "kendall.md", metric_report(agg, _header("Kendall's tau per family", n, seeds),
                                                  "kendall_tau", "Kendall tau-b"))
    _write_text(out / "topk.md", metric_report(agg, _header("Top-10 % precision per family", n, seeds),
                                               "top10%_precision", "Top-10 % precision"))


COMPARED_METHODS = ("gennape", "cl_fcm_t", "cl_t", "cl_pairwise", "kgnn")


def comparison(reference: dict[int, dict], variant: dict[int, dict], names: tuple[str, str]) -> str:
    """Spearman of the main methods, zero-shot and 50-shot, of two training presets over the seeds
    both have finished (an ablation: same data, same evaluation, one setting changed)."""
    seeds = sorted(set(reference) & set(variant))
    if not seeds:
        return f"# {names[1]} vs {names[0]}\n\nNo seed finished under both presets yet.\n"
    ref, var = (aggregate([runs[s] for s in seeds]) for runs in (reference, variant))
    ref_train, var_train = reference[seeds[0]]["setup"]["train"], variant[seeds[0]]["setup"]["train"]
    def shown(train: dict, key: str) -> str:  # "absent": the code of that side had no such setting
        return repr(train[key]) if key in train else "absent"

    changed = ", ".join(f"`{k}` {shown(ref_train, k)} -> {shown(var_train, k)}"
                        for k in {**ref_train, **var_train} if shown(var_train, k) != shown(ref_train, k))
    same_code = reference[seeds[0]]["setup"]["code"] == variant[seeds[0]]["setup"]["code"]
    text = (f"# {names[1]} vs {names[0]}: Spearman\n\nMean ± sample std over seed(s) {', '.join(map(str, seeds))}, "
            "the seeds both presets finished; generated by `python -m gennape.reproduce --compare-with`. Training "
            f"settings that differ (reference -> variant): {changed}. "
            f"{'Same' if same_code else 'Different'} code digest (`gennape.train` and `gennape.evaluate`).\n\n")
    nb_rows = [[METHOD_NAMES[m], _cell(ref["nb101_val2"]["above"][m]["spearman"]),
                _cell(var["nb101_val2"]["above"][m]["spearman"])] for m in COMPARED_METHODS]
    text += "## NB-101 validation-2 (>= threshold)\n\n" + _table(["method", names[0], names[1]], nb_rows) + "\n"
    for setting, label in (("zero_shot", "zero-shot"), ("few_shot", "50-shot")):
        rows = [[EVAL_SET_BY_KEY[key].title,
                 *(f"{_cell(ref['sets'][key][setting][m]['spearman'])} / {_cell(v[setting][m]['spearman'])}"
                   for m in COMPARED_METHODS)]
                for key, v in var["sets"].items() if key in ref["sets"]]
        text += (f"## {label} ({names[0]} / {names[1]})\n\n"
                 + _table(["family", *(METHOD_NAMES[m] for m in COMPARED_METHODS)], rows) + "\n")
    return text


# --- plots -----------------------------------------------------------------------------------------
def draw_plots(run_dir: Path, est: Estimator, sets: Sequence[EvalSet], data: dict, nb101_cells: int | None,
               out: Path) -> None:
    """Zero-shot predicted vs true per eval set (the given seed's saved predictions) and the map of
    ``est``'s encoder embeddings of a sample of every family's networks, NB-101 included."""
    predictions = np.load(run_dir / "zero_shot.npz", allow_pickle=False)
    panels = [(s.title, predictions[f"{s.key}|accuracy"], predictions[f"{s.key}|cl_fcm_t"],
               predictions[f"{s.key}|gennape"]) for s in sets if f"{s.key}|gennape" in predictions.files]
    plots.predicted_vs_true(panels, out / "zero_shot_accuracy.png", out / "zero_shot_rank.png")
    by_family = {"nb101": load_nb101(nb101_cells)[0]}
    for dataset in dict.fromkeys(s.dataset for s in sets):  # each data set's graphs once
        key = next(s.key for s in sets if s.dataset == dataset)
        by_family.setdefault(family_of(dataset).name, []).extend(data[key][0])
    rng = np.random.default_rng(0)
    groups = {}
    for family, graphs in by_family.items():
        pick = rng.choice(len(graphs), min(EMBEDDING_SAMPLE, len(graphs)), replace=False)
        groups[family] = est.encoder.embed([graphs[i] for i in pick])
    plots.embedding_map(groups, out / "embedding_map.png")


# --- the whole run ---------------------------------------------------------------------------------
def reproduce(out_dir: str | os.PathLike | None = None, seeds: Sequence[int] = SEEDS, quick: bool = False, *,
              preset: str = "default", runs_dir: str | os.PathLike = "runs/reproduce",
              datasets: Sequence[str] | None = None,
              weights_dir: str | os.PathLike | None = None, max_records: int | None = None,
              epochs: int | None = None, k: int = 50, compare_with: str | os.PathLike | None = None,
              seed_ensemble: bool = True) -> dict:
    """Run every missing seed of ``seeds``, then aggregate every finished seed in ``out_dir/raw`` made
    with the same settings into the tables, plots and README there (default ``out_dir``: ``results``,
    or ``results/<preset>``), and save the best seed's estimator into ``weights_dir`` (None: ship
    nothing), evaluated first as the paper evaluates its shipped model (``shipped.md``). ``quick``:
    the "quick" training preset,
    ``QUICK_RECORDS`` networks per data set, ``QUICK_EPOCHS`` fine-tuning epochs (``max_records`` and
    ``epochs`` override); otherwise the :meth:`TrainConfig.preset` named ``preset``, whose runs
    go to ``runs_dir/preset``. ``datasets``: eval-set keys (default: all of :data:`EVAL_SETS`).
    ``compare_with``: another output folder (say the default preset's ``results``) whose seeds were
    evaluated the same way under other training settings; :func:`comparison` of the two goes to
    ``out_dir/comparison.md``. ``seed_ensemble``: also evaluate the mean of the finished seeds'
    estimators (:func:`over_fine_tuning_seeds`; 50-shot costs one fine-tuning per seed pair, about
    45 min for 5 seeds on two cores) and ship it beside the best seed. Returns the aggregate."""
    if out_dir is None:
        out_dir = "results" if quick or preset == "default" else f"results/{preset}"
    out, runs = Path(out_dir), Path(runs_dir)
    (out / "raw").mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out / "reproduce.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    root = logging.getLogger("gennape")
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.INFO)
    try:
        config = TrainConfig.preset("quick" if quick else preset)
        agg = _reproduce(out, runs / ("quick" if quick else preset), seeds, config, quick, datasets, weights_dir,
                         max_records, epochs, k, seed_ensemble)
        if compare_with is not None:
            _write_comparison(Path(compare_with), out)
        return agg
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        handler.close()


def _reproduce(out: Path, runs: Path, seeds, config, quick, datasets, weights_dir, max_records, epochs, k,
               seed_ensemble) -> dict:
    unknown = [d for d in datasets or () if d not in EVAL_SET_BY_KEY]
    if unknown:
        raise GennapeError(f"unknown evaluation set(s) {', '.join(unknown)}; known: {', '.join(EVAL_SET_BY_KEY)}")
    sets = [EVAL_SET_BY_KEY[d] for d in datasets] if datasets else list(EVAL_SETS)
    max_records = max_records if max_records is not None else (QUICK_RECORDS if quick else None)
    epochs = epochs if epochs is not None else (QUICK_EPOCHS if quick else 100)
    setup = settings(config, sets, k, epochs, max_records)
    start = time.perf_counter()
    data = load_sets(sets, max_records)
    log.info("loaded %d evaluation sets (%d networks) in %.0f s", len(sets), sum(len(a) for _, a in data.values()),
             time.perf_counter() - start)
    done = finished_seeds(out / "raw", setup)
    for seed in seeds:
        if seed in done:
            log.info("seed %d: finished before, skipped (%s)", seed, out / "raw" / f"seed{seed}.json")
            continue
        log.info("seed %d: training and evaluating", seed)
        result = run_seed(seed, config, sets, data, runs / f"nb101_seed{seed}", k=k, epochs=epochs, setup=setup)
        _write_json(out / "raw" / f"seed{seed}.json", result)
        log.info("seed %d: done (train %.0f s, evaluation %.0f s)", seed, result["seconds"]["train"],
                 result["seconds"]["nb101"] + result["seconds"]["sets"])
        done[seed] = result

    # every finished seed with these settings counts, also those run in another session
    agg = aggregate([done[s] for s in sorted(done)])
    write_tables(agg, out, sorted(done), config.min_accuracy, k, epochs)
    ensemble = (_seed_ensemble_stage(out, runs, done, agg, sets, data, setup, config, k, epochs)
                if seed_ensemble else None)
    best = best_seed(done)
    run_dir = runs / f"nb101_seed{best}"
    shipped, ensemble_to = False, None
    if (run_dir / "estimator").is_dir() and (run_dir / "zero_shot.npz").is_file():
        est = Estimator.load(run_dir / "estimator")
        draw_plots(run_dir, est, sets, data, config.max_cells, out / "plots")
        if weights_dir is not None:
            _shipped_stage(out, est, run_dir / "shipped", best, done, agg, sets, data, setup, config, k, epochs)
            est.save(weights_dir)
            shipped = True
            if ensemble is not None:
                ensemble_to = ensemble.save(Path(weights_dir) / SEED_ENSEMBLE_SUBDIR)
    else:
        log.warning("the run of the best seed %d is missing (%s): plots and weights not updated", best, run_dir)
    options = "--quick" if quick else "" if runs.name == "default" else f"--preset {runs.name}"
    _write_text(out / "README.md", readme(done, best, weights_dir if shipped else None, ensemble_to, setup, options))
    log.info("tables written to %s; best seed %d", out, best)
    return agg


def _seed_ensemble_stage(out: Path, runs: Path, done: dict[int, dict], agg: dict, sets, data, setup: dict,
                         config: TrainConfig, k: int, epochs: int) -> SeedEnsemble | None:
    """Evaluate the mean of every finished seed's estimator (:func:`over_fine_tuning_seeds`) into
    ``out/raw/seed_ensemble.json`` and ``out/seed_ensemble.md``; None when fewer than 2 seeds' runs exist."""
    seeds = sorted(done)
    folders = [runs / f"nb101_seed{s}" / "estimator" for s in seeds]
    if len(seeds) < 2 or not all(f.is_dir() for f in folders):
        log.info("seed ensemble skipped: it needs the estimators of at least 2 finished seeds")
        return None
    ensemble = SeedEnsemble([Estimator.load(f) for f in folders])
    ens_setup = {**{key: v for key, v in setup.items() if key != "sets"}, "seeds": seeds,
                 "ensemble_code": code_digest("gennape.seed_ensemble")}
    results = over_fine_tuning_seeds(ensemble, sets, data, seeds, runs / "seed_ensemble", ens_setup, k=k,
                                     epochs=epochs)
    nb101 = nb101_val2_of(ensemble, config)
    log.info("seed ensemble NB-101 val-2 (>= %g %%): SRCC %.4f (seeds: %s)", config.min_accuracy,
             nb101["above"]["gennape"]["spearman"], ", ".join(
                 f"{done[s]['nb101_val2']['above']['gennape']['spearman']:.4f}" for s in seeds))
    _write_json(out / "raw" / "seed_ensemble.json", {"setup": ens_setup, "nb101_val2": nb101, "sets": results})
    _write_text(out / "seed_ensemble.md", beside_one_seed(
        agg, nb101, results, seeds, config.min_accuracy,
        f"GENNAPE, {len(seeds)} seeds averaged (`gennape.seed_ensemble`)",
        f"the mean of those {len(seeds)} estimators (`SeedEnsemble`, "
        '`gennape.load_pretrained("gennape_seeds")`)'))
    return ensemble


def _shipped_stage(out: Path, est: Estimator, state_dir: Path, best: int, done: dict[int, dict], agg: dict, sets,
                   data, setup: dict, config: TrainConfig, k: int, epochs: int) -> None:
    """Evaluate ``est``, seed ``best``'s estimator, as the paper evaluates its shipped model: zero-shot
    once, 50-shot over the fine-tuning seeds of every finished seed (:func:`over_fine_tuning_seeds`,
    resuming from ``state_dir``), into ``out/raw/shipped.json`` and ``out/shipped.md``."""
    seeds = sorted(done)
    ship_setup = {**{key: v for key, v in setup.items() if key != "sets"}, "seed": best, "fine_tuning_seeds": seeds}
    results = over_fine_tuning_seeds(est, sets, data, seeds, state_dir, ship_setup, k=k, epochs=epochs)
    nb101 = nb101_val2_of(est, config)
    _write_json(out / "raw" / "shipped.json", {"setup": ship_setup, "nb101_val2": nb101, "sets": results})
    _write_text(out / "shipped.md", beside_one_seed(
        agg, nb101, results, seeds, config.min_accuracy, f"The shipped estimator (seed {best}), the paper's protocol",
        f"the shipped estimator (`gennape.load_pretrained()`, seed {best}, chosen by NB-101 validation-2)"))


def beside_one_seed(agg: dict, nb101: dict, results: dict, seeds: Sequence[int], min_accuracy: float, title: str,
                    what: str) -> str:
    """One seed (mean ± std over the seeds) beside one fixed estimator evaluated by
    :func:`over_fine_tuning_seeds`, ``what`` it is (Markdown): NB-101 validation-2 (``nb101``, from
    :func:`nb101_val2_of`), then per family (``results``), with the paper's GENNAPE numbers where it
    has the family."""
    single = agg["nb101_val2"]
    nb101_rows = [[f"val-2 >= {min_accuracy:g} %" if part == "above" else "all val-2",
                   *(f"{_cell(single[part][method][metric], digits)} / **{nb101[part][method][metric]:.{digits}f}**"
                     for method, metric, digits in (("gennape", "spearman", 3), ("gennape", "kendall_tau", 3),
                                                    ("gennape", "ndcg@10", 3), ("cl_fcm_t", "spearman", 3),
                                                    ("cl_fcm_t", "mae", 2)))]
                  for part in ("above", "all")]
    rows = []
    for key, v in agg["sets"].items():
        if key not in results:
            continue
        cheap = max(evaluate.CHEAP_BASELINES, key=lambda m: v["zero_shot"][m]["spearman"][0])
        paper = EVAL_SET_BY_KEY[key].paper
        rows.append([EVAL_SET_BY_KEY[key].title,
                     *(_single_and_ensemble(v, results[key], setting, "gennape", metric)
                       for metric in ("spearman", "ndcg@10") for setting in ("zero_shot", "few_shot")),
                     _single_and_ensemble(v, results[key], "few_shot", "cl_fcm_t", "mae", 2),
                     f"{METHOD_NAMES[cheap]} {_cell(v['zero_shot'][cheap]['spearman'])}",
                     "-" if paper is None else
                     f"{PAPER_TABLE5[paper][1]:.3f} / {PAPER_TABLE5[paper][3]:.3f}; "
                     f"{PAPER_TABLE6[paper][1]:.3f} / {PAPER_TABLE6[paper][3]:.3f}"])
    seed_list = ", ".join(map(str, seeds))
    return (f"# {title}\n\n"
            f"Each cell: one seed's GENNAPE ensemble (mean ± sample std over seeds {seed_list}, as in "
            f"table5_srcc.md) / **{what}**. Bold zero-shot: one number (the estimator is fixed, nothing is "
            f"drawn). Bold 50-shot: mean ± std over fine-tuning seeds {seed_list}, each on the same 50 networks "
            "the single-seed rows use, the paper's protocol for its shipped model (Tables 5-6). MAE: CL+FCM+T's "
            "accuracy estimate after fine-tuning, in percentage points. Paper: GENNAPE's SRCC zero-shot / "
            "fine-tuned; NDCG@10 zero-shot / fine-tuned (its row for the family, whose data differ; see the label "
            "sources). Generated by `python -m gennape.reproduce`.\n\n"
            "## NB-101 in family\n\nValidation-2 of the one 80/10/10 split every seed shares "
            "(`TrainConfig.split_seed`): none of the estimators trained on these cells.\n\n"
            + _table(["cells", "GENNAPE SRCC", "GENNAPE Kendall tau", "GENNAPE NDCG@10", "CL+FCM+T SRCC",
                      "CL+FCM+T MAE (%)"], nb101_rows)
            + "\n## Other families\n\n"
            + _table(["family", "SRCC zero-shot", "SRCC 50-shot", "NDCG@10 zero-shot", "NDCG@10 50-shot",
                      "CL+FCM+T MAE 50-shot (%)", "best cheap signal zero-shot", "paper"], rows)
            + _sources([key for key in agg["sets"] if key in results], nb101=True))


def _single_and_ensemble(single: dict, ensemble: dict, setting: str, method: str, metric: str, digits: int = 3) -> str:
    """One table cell, "one seed (aggregated) / **seed ensemble**"; the ensemble's 50-shot numbers are
    per fine-tuning seed."""
    ens = ensemble[setting]
    values = [ens[f][method][metric] for f in ens] if setting == "few_shot" else [ens[method][metric]]
    return f"{_cell(single[setting][method][metric], digits)} / **{_cell(mean_std(values), digits)}**"


def _evaluation_settings(setup: dict) -> dict:
    return {k: v for k, v in setup.items() if k not in ("train", "code")}


def _write_comparison(reference_dir: Path, out: Path) -> None:
    variant = {r["seed"]: r for r in map(json.loads, map(Path.read_text, sorted((out / "raw").glob(SEED_FILES))))}
    if not variant:
        return
    # a variant may need code the reference did not have: seeds pair up on the evaluation settings
    evaluation = _evaluation_settings(next(iter(variant.values()))["setup"])
    reference = {}
    for path in sorted((reference_dir / "raw").glob(SEED_FILES)):
        result = json.loads(path.read_text())
        if _evaluation_settings(result["setup"]) == evaluation:
            reference[result["seed"]] = result
    _write_text(out / "comparison.md", comparison(reference, variant, (_shown(reference_dir), _shown(out))))
    log.info("comparison with %s (%d common seed(s)) written to %s", reference_dir,
             len(set(reference) & set(variant)), out / "comparison.md")


def readme(results: dict[int, dict], best: int, shipped_to: Path | None, ensemble_to: Path | None, setup: dict,
           options: str) -> str:
    seeds = sorted(results)
    shipped = (f"Saved to `{_shown(shipped_to)}`." if shipped_to
               else "Not shipped (no weights folder given, or the seed's run folder is missing).")
    if ensemble_to:
        shipped += f"\nEvery seed's estimator, as the seed ensemble (`gennape_seeds`), to `{_shown(ensemble_to)}`."
    timing = _table(["seed", "training in the last run (s)", "NB-101 evaluation (s)", "family evaluation (s)"],
                    [[str(s), f"{results[s]['seconds']['train']:.0f}", f"{results[s]['seconds']['nb101']:.0f}",
                      f"{results[s]['seconds']['sets']:.0f}"] for s in seeds])
    srcc = _table(["seed", "GENNAPE NB-101 val-2 SRCC (>= threshold)"],
                  [[str(s), f"{results[s]['nb101_val2']['above']['gennape']['spearman']:.4f}"] for s in seeds])
    return f"""# Results

Every file here is generated by `python -m gennape.reproduce{" " + options if options else ""}` (also
`gennape reproduce`); nothing is typed in by hand except the paper's numbers, which sit beside ours.

- `raw/seed{{N}}.json`: one seed's numbers (NB-101 validation-2, zero-shot and 50-shot metrics of every
  method on every family, timings) and the settings that made them; a rerun skips seeds whose file
  has the same settings.
- `table3_nb101.md`, `table4_mae.md`, `table5_srcc.md`, `table6_ndcg.md`, `kendall.md`, `topk.md`:
  mean ± sample std over the {len(seeds)} seed(s) present ({', '.join(map(str, seeds))}).
- `plots/zero_shot_accuracy.png` (CL+FCM+T's NB-101-calibrated accuracy vs the truth),
  `plots/zero_shot_rank.png` (GENNAPE's rank vs the true rank), `plots/embedding_map.png` (PCA of
  the embeddings of {EMBEDDING_SAMPLE} networks per family, from the encoder the heads read: the CL
  encoder, tuned on NB-101 Eq. 5 labels when the training settings say `tune_epochs` > 0): all of
  the shipped seed.
- `seed_ensemble.md`, `raw/seed_ensemble.json`: the mean of every seed's estimator (a
  `gennape.seed_ensemble.SeedEnsemble`, with at least 2 seeds) zero-shot and 50-shot, beside one seed.
- `shipped.md`, `raw/shipped.json`: the shipped estimator as the paper reports its own (zero-shot once,
  50-shot mean ± std over fine-tuning seeds), beside one seed.
- `reproduce.log`: progress of every run.

Protocol: for each seed, the estimator is trained on NB-101 (`gennape.train`, settings in the raw
files) on one seeded 80/10/10 split that every seed shares (`split_seed`); zero-shot metrics use
every network of a family; 50-shot metrics fine-tune the estimator (`Estimator.fine_tune`,
{setup['epochs']} epoch(s)) on {setup['k']} networks drawn by `gennape.evaluate.finetune_split` from the
seed alone, and evaluate on the rest. GCN and GIN are reported zero-shot and on NB-101 only (they
are not ensemble members and are not fine-tuned).
NB-201 CIFAR-100 and ImageNet16-120 rows score the CIFAR-10 graphs, as GENNAPE does. GENNAPE is
the six-member ensemble on the estimator's common scale (normalised ranks within the scored set,
see `gennape.estimator`); "GENNAPE (NB-101 z-scores)" combines the same members as z-scores
w.r.t. NB-101 validation-1 instead. Other training presets (`--preset`) write the same layout into
`results/<preset>/`, with `comparison.md` against this folder when run with `--compare-with results`.
A folder whose README names a script in `experiments/` is written by that script instead.
{"Quick preset: few networks and epochs; the numbers exercise the pipeline and mean nothing."
 if options == "--quick" else ""}

## Shipped model

Seed {best}: its ensemble has the best NB-101 validation-2 Spearman (cells >= the accuracy threshold),
the paper's selection rule; only NB-101 validation data decide. {shipped}

{srcc}
## Timings (this machine, 2 shared cores)

Training resumes from the checkpoints in the run folder, so a seed whose stages were trained
before shows only the seconds to load them; `reproduce.log` has every stage's epochs and times.

{timing}"""


@contextlib.contextmanager
def _quiet(logger: str):
    """Only warnings from ``logger`` inside the block."""
    lg = logging.getLogger(logger)
    level = lg.level
    lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        lg.setLevel(level)


def _shown(path: str | os.PathLike) -> str:
    """``path`` relative to the working directory when it lies below it (no machine paths in results)."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file, so a killed run never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_json(path: Path, data: dict) -> None:
    _write_text(path, json.dumps(data, indent=1))


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    save_npz_atomically(path, **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m gennape.reproduce", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--quick", action="store_true", help="tiny settings that only exercise the pipeline")
    parser.add_argument("--preset", default="default", help="training preset: default, or a variant: "
                        + ", ".join(p for p in PRESETS if p not in ("default", "quick")))
    parser.add_argument("--out-dir", help="default: results, or results/PRESET for another preset")
    parser.add_argument("--runs-dir", default="runs/reproduce")
    parser.add_argument("--datasets", nargs="+", choices=list(EVAL_SET_BY_KEY), help="evaluation sets (default all)")
    parser.add_argument("--weights-dir", default=str(WEIGHTS_DIR),
                        help="where the best seed is shipped (the default preset only)")
    parser.add_argument("--no-ship", action="store_true",
                        help="do not write (nor evaluate over fine-tuning seeds) the best seed's weights")
    parser.add_argument("--max-records", type=int, help="random subsample of each data set")
    parser.add_argument("--epochs", type=int, help="fine-tuning epochs (default 100; quick 2)")
    parser.add_argument("--compare-with", help="another results folder: write comparison.md against its seeds")
    parser.add_argument("--no-seed-ensemble", action="store_true",
                        help="skip evaluating (and shipping) the mean of the finished seeds' estimators")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return reproduce(args.out_dir, args.seeds, args.quick, preset=args.preset, runs_dir=args.runs_dir,
                     datasets=args.datasets, compare_with=args.compare_with,
                     weights_dir=None if args.no_ship or args.quick or args.preset != "default" else args.weights_dir,
                     max_records=args.max_records, epochs=args.epochs, seed_ensemble=not args.no_seed_ensemble)


if __name__ == "__main__":
    main()
