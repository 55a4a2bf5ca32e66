"""Loader ``nb101``: the 20,001-cell NAS-Bench-101 sample (CIFAR-10, 108-epoch validation accuracy
of one training run), each cell recovered from its module hash."""

from __future__ import annotations

import json
from pathlib import Path

from ..families.nb101 import OPS, NB101Spec
from .base import DataError, Record, register_loader, require_file
from .nb101_hashes import cell_table

FILE = "raw/nasbench101/data-20k.json"
SOURCE = "NAS-Bench-101 (Ying et al. 2019), tiga1231/nasbench-vis static/data/data-20k.json"
LABEL_SOURCE = "108-epoch validation accuracy, single run"
EPOCHS = (4, 12, 36, 108)
COLUMNS = ("key", "trainable_parameters", "final_training_time",
           *(f"{e}_final_validation_accuracy" for e in EPOCHS))


@register_loader("nb101", family="nb101")
def load_nb101(root: Path) -> list[Record]:
    """One record per hash of ``data-20k.json``: ``accuracy`` = 108-epoch validation accuracy in
    percent; ``extra``: ``params``, ``hash``, ``val_accuracy_{4,12,36}ep`` (percent),
    ``training_time_s`` (seconds, the 108-epoch run) and ``label_source``. The first call enumerates
    the NB-101 space to build the hash -> cell table (about a minute), later calls read its cache."""
    path = require_file(root, FILE, SOURCE)
    columns = _read_columns(path)
    table = cell_table()
    try:
        rows = table.index(columns["key"])
    except DataError as e:
        raise DataError(f"{path}: {e}") from None
    records = []
    for i, row in enumerate(rows):
        matrix, labels = table.cell(row)
        ops = ["input", *(OPS[k] for k in labels[1:-1]), "output"]
        try:
            extra = {"params": int(columns["trainable_parameters"][i]), "hash": columns["key"][i],
                     **{f"val_accuracy_{e}ep": 100 * float(columns[f"{e}_final_validation_accuracy"][i])
                        for e in EPOCHS[:-1]},
                     "training_time_s": float(columns["final_training_time"][i]),
                     "label_source": LABEL_SOURCE}
            accuracy = 100 * float(columns["108_final_validation_accuracy"][i])
        except (TypeError, ValueError) as e:
            raise DataError(f"{path}: row {i} (hash {columns['key'][i]}) has a non-numeric value "
                            f"({e})") from None
        records.append(Record(NB101Spec.from_cell(matrix, ops), accuracy, extra))
    return records


def _read_columns(path: Path) -> dict[str, list]:
    """The columns of ``data-20k.json``, checked to be present and of equal length."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path} is not readable JSON ({e}); expected the {SOURCE} file") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} should hold one object of columns, got {type(data).__name__} ({SOURCE})")
    missing = [c for c in COLUMNS if not isinstance(data.get(c), list)]
    if missing:
        raise DataError(f"{path} lacks column(s) {', '.join(missing)} ({SOURCE})")
    lengths = {c: len(data[c]) for c in COLUMNS}
    if len(set(lengths.values())) != 1:
        raise DataError(f"{path} has columns of unequal length: {lengths}")
    return {c: data[c] for c in COLUMNS}
