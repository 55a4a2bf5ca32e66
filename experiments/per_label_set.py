"""What the 50-shot experiments share: one function run on every label set with every seed of `gennape_seeds`,
resumably, then a table written from every seed's raw results.

A script ``experiments/X.py`` calls ``main(one_set, write_table, Path("results/X"), describe)``;
``python -m experiments.X [seed ...]`` then writes ``results/X/raw/seed{N}.json`` (finished label sets are
skipped) and ``results/X/README.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from gennape import load_estimator
from gennape.estimator import Estimator
from gennape.evaluation import EVAL_SETS, load_sets

SPACE_OF = {s.key: s.dataset.split("/")[0] for s in EVAL_SETS.values()}  # label set -> design space


def main(one_set: Callable[[Estimator, list, np.ndarray, int], dict],
         write_table: Callable[[dict[int, dict], Path], None], out: Path,
         describe: Callable[[dict], str]) -> None:
    """``one_set(estimator, graphs, accuracies in percent, seed)`` -> that label set's results;
    ``describe(results)`` -> the progress line printed after it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=out)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.getLogger("gennape.training").setLevel(logging.WARNING)
    raw = args.out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    data, shipped = None, load_estimator("gennape_seeds")
    for seed in args.seeds:
        path = raw / f"seed{seed}.json"
        done = json.loads(path.read_text()) if path.is_file() else {}
        todo = [s for s in EVAL_SETS.values() if s.key not in done]
        if todo and data is None:
            data = load_sets(EVAL_SETS.values())
        est = shipped.estimators[shipped.seeds.index(seed)]
        for s in todo:
            graphs, acc = data[s.key]
            done[s.key] = one_set(est, graphs, acc, seed)
            path.write_text(json.dumps(done, indent=1))
            print(f"seed {seed} {s.key}: {describe(done[s.key])}", flush=True)
    results = {int(p.stem[4:]): json.loads(p.read_text()) for p in sorted(raw.glob("seed[0-9]*.json"))}
    write_table(results, args.out / "README.md")
