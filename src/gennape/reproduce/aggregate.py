"""Collecting finished seeds and aggregating their numbers (mean, sample std, count), and the
paper's rule for the seed to ship."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

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
