"""Loader ``nas_bench_macro``: the 3,969 distinct NAS-Bench-Macro networks (CIFAR-10 test accuracy,
mean of 3 runs). The file's 6,561 keys are merged by network: keys that differ only in where a
no-op identity sits name the same network and carry the same results."""

from __future__ import annotations

import json
from pathlib import Path

from ..families.nas_bench_macro import MacroSpec
from .base import DataError, Record, register_loader, require_file

FILE = "raw/nas_bench_macro/nas-bench-macro_cifar10.json"
SOURCE = "NAS-Bench-Macro (Su et al. 2021), xiusu/NAS-Bench-Macro data/nas-bench-macro_cifar10.json"
FIELDS = ("test_acc", "mean_acc", "std", "params", "flops")


@register_loader("nas_bench_macro", family="nas_bench_macro")
def load_nas_bench_macro(root: Path) -> list[Record]:
    """One record per distinct network: ``accuracy`` = mean CIFAR-10 test accuracy of 3 runs in
    percent; ``extra``: ``params``, ``flops`` (multiply-adds), ``test_acc`` (the 3 runs, percent),
    ``std`` and ``keys`` (every 8-character key of the network, its canonical one first)."""
    path = require_file(root, FILE, SOURCE)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path} is not readable JSON ({e}); expected the {SOURCE} file") from None
    keys: dict[MacroSpec, list[str]] = {}
    for key, row in data.items():
        if not isinstance(row, dict) or any(f not in row for f in FIELDS):
            raise DataError(f"{path}: entry {key!r} lacks one of {FIELDS} ({SOURCE})")
        if len(key) != 8 or set(key) - set("012"):
            raise DataError(f"{path}: key {key!r} is not 8 characters over 0-2 ({SOURCE})")
        keys.setdefault(MacroSpec(tuple(map(int, key))), []).append(key)
    records = []
    for spec, names in keys.items():
        canonical = "".join(map(str, spec.layers))
        names.sort(key=lambda k: (k != canonical, k))
        row = data[names[0]]
        extra = {"params": int(row["params"]), "flops": int(row["flops"]),
                 "test_acc": [float(a) for a in row["test_acc"]], "std": float(row["std"]), "keys": names}
        records.append(Record(spec, float(row["mean_acc"]), extra))
    return records
