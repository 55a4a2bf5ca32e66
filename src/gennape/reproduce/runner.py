"""One command that reproduces GENNAPE's evaluation: for each seed, train the estimator on NB-101
(:func:`gennape.training.train_estimator`), evaluate it in family (NB-101 validation-2) and zero-shot
and 50-shot on every labelled family, write the seed's numbers to ``results/raw/seed{seed}.json``,
then aggregate every finished seed into the paper-shaped tables (:mod:`.report`), draw the plots,
and ship the seed with the best NB-101 validation-2 ensemble Spearman as the package's weights.

Resumable at three levels: training stages (checkpoints in ``runs/reproduce/<preset>/nb101_seed{seed}``),
data sets within a seed (``evaluation.json`` there), and whole seeds (``results/raw/seed{seed}.json`` is
skipped when it was made with the same settings). Progress goes to ``results/reproduce.log``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors.torch import load_file

from ..data import family_of
from ..errors import GennapeError
from ..estimator import SEED_ENSEMBLE_SUBDIR, Estimator, GNNMember, SeedEnsemble
from ..evaluation import EVAL_SETS, EvalSet, load_sets, plots, protocol
from ..evaluation.metrics import summary
from ..files import save_npz_atomically, write_json_atomically, write_text_atomically
from ..graph.compute_graph import ComputeGraph
from ..provenance import code_digest
from ..training import TrainConfig
from ..training.nb101 import nb101_cells, split_nb101
from ..training.pipeline import train_estimator
from .aggregate import aggregate, best_seed, finished_seeds, SEED_FILES
from .report import beside_one_seed, comparison, readme, shown, write_tables

log = logging.getLogger("gennape.reproduce")

EVAL_VERSION = 1  # bump when the protocol changes, so finished seeds are redone
SEEDS = (0, 1, 2, 3, 4)
QUICK_RECORDS = 300  # records per data set in the quick preset
QUICK_EPOCHS = 2  # fine-tuning epochs in the quick preset
EMBEDDING_SAMPLE = 300  # graphs per family in the embedding map


def settings(config: TrainConfig, sets: Sequence[EvalSet], k: int, epochs: int, max_records: int | None) -> dict:
    """Everything a seed's numbers depend on besides the seed, the code that computes them included:
    a finished seed is reused only if equal."""
    code = "".join(code_digest(m) for m in ("gennape.training.pipeline", "gennape.training.fine_tuning",
                                             "gennape.evaluation.protocol"))
    setup = {"eval_version": EVAL_VERSION, "code": code,
             "train": dataclasses.asdict(config), "sets": [s.key for s in sets], "k": k, "epochs": epochs,
             "max_records": max_records}
    return json.loads(json.dumps(setup))  # as it reads back from a file: tuples become lists


def with_baselines(est: Estimator, run_dir: Path, config: TrainConfig) -> Estimator:
    """``est`` plus the extra end-to-end GNNs (GCN, GIN) that training checkpoints into ``run_dir``
    but does not ship, for reporting; the ensemble is unchanged."""
    extra = {}
    for conv in config.baselines:
        member = GNNMember(conv, config.dim, config.num_layers, config.node_features, config.gnn_flops_input)
        member.load_state_dict(load_file(run_dir / f"{conv}.safetensors"))
        extra[conv] = member
    return est.with_members({**est.members, **extra})


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
    graphs, acc = nb101_cells(config.max_cells)
    _, _, val2 = split_nb101(len(graphs), config.split_seed)
    nb101 = protocol.nb101_val2(reported, graphs, acc, val2, config.min_accuracy)
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
        scores = protocol.method_scores(reported, g, protocol.methods_of(reported))
        zs = protocol.score_metrics(reported, scores, a)
        t1 = time.perf_counter()
        with _quiet("gennape.training"):  # 100 epochs x every member x every family would swamp the log
            fs = protocol.few_shot(est, g, a, seed, k=k, epochs=epochs)
        t2 = time.perf_counter()
        partial["sets"][s.key] = {"n": len(g), "zero_shot": zs, "few_shot": fs,
                                  "seconds": {"zero_shot": t1 - t0, "few_shot": t2 - t1}}
        predictions.update({f"{s.key}|accuracy": a, f"{s.key}|gennape": scores["gennape"],
                            f"{s.key}|cl_fcm_t": scores["cl_fcm_t"]})
        save_npz_atomically(predictions_path, **{k: np.asarray(v, dtype=np.float32) for k, v in predictions.items()})
        write_json_atomically(partial_path, partial)
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
    fine-tuning seed of ``ft_seeds``, on the samples :func:`gennape.evaluation.finetune_split` draws for it (the
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
            write_json_atomically(path, state)
        for ft_seed in ft_seeds:
            if str(ft_seed) in state["few_shot"]:
                continue
            t0 = time.perf_counter()
            tune, test = protocol.finetune_split(len(g), ft_seed, k)
            with _quiet("gennape.training"):
                tuned = est.fine_tune([g[i] for i in tune], a[tune], epochs=epochs, seed=ft_seed)
            state["few_shot"][str(ft_seed)] = _ensemble_metrics(_ensemble_scores(tuned, [g[i] for i in test]),
                                                                a[test])
            write_json_atomically(path, state)
            log.info("%s %-30s fine-tuning seed %d: 50-shot SRCC %.3f [%.0f s]", state_dir.name, s.key, ft_seed,
                     state["few_shot"][str(ft_seed)]["gennape"]["spearman"], time.perf_counter() - t0)
        out[s.key] = {"n": len(g), "zero_shot": state["zero_shot"],
                      "few_shot": {str(f): state["few_shot"][str(f)] for f in ft_seeds}}
        log.info("%s %-30s zero-shot SRCC %.3f", state_dir.name, s.key, state["zero_shot"]["gennape"]["spearman"])
    return out


def nb101_val2_of(est: Estimator | SeedEnsemble, config: TrainConfig) -> dict:
    """NB-101 validation-2 metrics of ``est`` in the shape of :func:`over_fine_tuning_seeds`
    ({"all", "above"} as :func:`gennape.evaluation.nb101_val2`): the cells every seed held out, as all seeds of a
    preset share one split (``TrainConfig.split_seed``)."""
    graphs, acc = nb101_cells(config.max_cells)
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


def draw_plots(run_dir: Path, est: Estimator, sets: Sequence[EvalSet], data: dict, max_cells: int | None,
               out: Path) -> None:
    """Zero-shot predicted vs true per eval set (the given seed's saved predictions) and the map of
    ``est``'s encoder embeddings of a sample of every family's networks, NB-101 included."""
    predictions = np.load(run_dir / "zero_shot.npz", allow_pickle=False)
    panels = [(s.title, predictions[f"{s.key}|accuracy"], predictions[f"{s.key}|cl_fcm_t"],
               predictions[f"{s.key}|gennape"]) for s in sets if f"{s.key}|gennape" in predictions.files]
    plots.predicted_vs_true(panels, out / "zero_shot_accuracy.png", out / "zero_shot_rank.png")
    by_family = {"nb101": nb101_cells(max_cells)[0]}
    for dataset in dict.fromkeys(s.dataset for s in sets):  # each data set's graphs once
        key = next(s.key for s in sets if s.dataset == dataset)
        by_family.setdefault(family_of(dataset).name, []).extend(data[key][0])
    rng = np.random.default_rng(0)
    groups = {}
    for family, graphs in by_family.items():
        pick = rng.choice(len(graphs), min(EMBEDDING_SAMPLE, len(graphs)), replace=False)
        groups[family] = est.encoder.embed([graphs[i] for i in pick])
    plots.embedding_map(groups, out / "embedding_map.png")


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
    unknown = [d for d in datasets or () if d not in EVAL_SETS]
    if unknown:
        raise GennapeError(f"unknown evaluation set(s) {', '.join(unknown)}; known: {', '.join(EVAL_SETS.names())}")
    sets = [EVAL_SETS.get(d) for d in datasets] if datasets else EVAL_SETS.values()
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
        write_json_atomically(out / "raw" / f"seed{seed}.json", result)
        log.info("seed %d: done (train %.0f s, evaluation %.0f s)", seed, result["seconds"]["train"],
                 result["seconds"]["nb101"] + result["seconds"]["sets"])
        done[seed] = result

    # every finished seed with these settings counts, also those run by another process
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
    write_text_atomically(out / "README.md", readme(done, best, weights_dir if shipped else None, ensemble_to, setup,
                                                    options, EMBEDDING_SAMPLE))
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
                 "ensemble_code": code_digest("gennape.estimator.seed_ensemble")}
    results = over_fine_tuning_seeds(ensemble, sets, data, seeds, runs / "seed_ensemble", ens_setup, k=k,
                                     epochs=epochs)
    nb101 = nb101_val2_of(ensemble, config)
    log.info("seed ensemble NB-101 val-2 (>= %g %%): SRCC %.4f (seeds: %s)", config.min_accuracy,
             nb101["above"]["gennape"]["spearman"], ", ".join(
                 f"{done[s]['nb101_val2']['above']['gennape']['spearman']:.4f}" for s in seeds))
    write_json_atomically(out / "raw" / "seed_ensemble.json",
                          {"setup": ens_setup, "nb101_val2": nb101, "sets": results})
    write_text_atomically(out / "seed_ensemble.md", beside_one_seed(
        agg, nb101, results, seeds, config.min_accuracy,
        f"GENNAPE, {len(seeds)} seeds averaged (`gennape.estimator.seed_ensemble`)",
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
    write_json_atomically(out / "raw" / "shipped.json", {"setup": ship_setup, "nb101_val2": nb101, "sets": results})
    write_text_atomically(out / "shipped.md", beside_one_seed(
        agg, nb101, results, seeds, config.min_accuracy, f"The shipped estimator (seed {best}), the paper's protocol",
        f"the shipped estimator (`gennape.load_pretrained()`, seed {best}, chosen by NB-101 validation-2)"))


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
    write_text_atomically(out / "comparison.md", comparison(reference, variant, (shown(reference_dir), shown(out))))
    log.info("comparison with %s (%d common seed(s)) written to %s", reference_dir,
             len(set(reference) & set(variant)), out / "comparison.md")


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
