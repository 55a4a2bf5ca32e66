"""What the experiments judged by an NB-101 rule share: a variant of the shipped estimator may become a default
only on NB-101 data, its validation-2 cells (>= 80 %) as they are and rebuilt narrower (the width check,
docs/transfer.md), while every other label set is reported beside it and decides nothing.

A script ``experiments/X.py`` calls ``main(evaluate_seed, write_table, Path("results/X"))``;
``python -m experiments.X [seed ...]`` then runs ``evaluate_seed(seed, data)`` for every seed of `gennape_seeds`
not yet in ``results/X/raw/seed{N}.json`` and writes ``results/X/README.md`` from every seed's raw results.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from gennape import load_estimator
from gennape.data import load
from gennape.estimator import Estimator
from gennape.evaluation import EVAL_SETS, load_sets, spearman
from gennape.families.nb101 import network_graph
from gennape.training import TrainConfig, nb101_cells, split_nb101

CHECK_WIDTHS = (16, 32)  # the width check: mean Spearman of validation-2 rebuilt at these stem widths (NB-101: 128)


@dataclass(eq=False)
class RuleData:
    """NB-101's graphs, accuracies (percent) and records; the training and validation-2 (>= 80 %) indices; the
    validation-2 cells rebuilt at each width of CHECK_WIDTHS; {eval-set key: (graphs, accuracies)}."""
    graphs: list
    acc: np.ndarray
    records: list
    train: np.ndarray
    val2: np.ndarray
    check: dict[int, list]
    sets: dict[str, tuple[list, np.ndarray]]


def load_data(with_sets: bool = True) -> RuleData:
    """Everything :class:`RuleData` holds; ``with_sets=False`` leaves the eval sets out (an empty dict)."""
    config = TrainConfig()
    graphs, acc = nb101_cells()
    records = load("nb101")
    train, _, val2 = split_nb101(len(graphs), config.split_seed)
    val2 = val2[acc[val2] >= config.min_accuracy]
    check = {w: [network_graph(records[i].spec, stem_channels=w) for i in val2] for w in CHECK_WIDTHS}
    return RuleData(graphs, acc, records, train, val2, check, load_sets(EVAL_SETS.values()) if with_sets else {})


def seed_estimator(seed: int) -> Estimator:
    """Seed ``seed`` of `gennape_seeds`, as shipped."""
    shipped = load_estimator("gennape_seeds")
    return shipped.estimators[shipped.seeds.index(seed)]


def width_scores(est: Estimator, data: RuleData) -> dict[str, float]:
    """{"width W": the ensemble's Spearman on validation-2 rebuilt at stem width W} for each of CHECK_WIDTHS."""
    return {f"width {w}": spearman(data.acc[data.val2], est.predict(data.check[w])) for w in CHECK_WIDTHS}


def width_check(row: dict[str, float]) -> float:
    """The width check of a row holding :func:`width_scores`' entries."""
    return float(np.mean([row[f"width {w}"] for w in CHECK_WIDTHS]))


def main(evaluate_seed: Callable[[int, RuleData], dict], write_table: Callable[[dict[int, dict], Path], None],
         out: Path) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=out)
    args = parser.parse_args()
    torch.set_num_threads(1)
    raw = args.out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    todo = [seed for seed in args.seeds if not (raw / f"seed{seed}.json").is_file()]
    if todo:
        data = load_data()
        for seed in todo:
            (raw / f"seed{seed}.json").write_text(json.dumps(evaluate_seed(seed, data), indent=1))
    results = {int(p.stem[4:]): json.loads(p.read_text()) for p in sorted(raw.glob("seed[0-9]*.json"))}
    write_table(results, args.out / "README.md")
