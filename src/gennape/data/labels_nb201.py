"""Loaders ``nb201`` (all 15,625 NAS-Bench-201 cells) and ``nb201/no_none`` (the 4,096 cells
without a ``none`` edge, GENNAPE's NB-201 family): 200-epoch test accuracy in percent, mean over
seeds, from NATS-Bench."""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import SpecError
from ..families.nb201 import NB201Spec
from .base import DataError, Record, register_loader, require_file

FILE = "raw/nasbench201/nats_bench.csv"
SOURCE = "NAS-Bench-201 / NATS-Bench tss via v-tao/nats-bench-landscape nats_bench.csv"
COLUMNS = ("CIFAR10TestAccuracy200Epochs", "CIFAR100TestAccuracy200Epochs", "ImageNetTestAccuracy200Epochs",
           "ArchitectureString", "UniqueString")


def _read(root: Path) -> list[Record]:
    path = require_file(root, FILE, SOURCE)
    try:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path} is not a readable CSV ({e}); expected the {SOURCE} file") from None
    if not rows or any(c not in rows[0] for c in COLUMNS):
        raise DataError(f"{path} lacks one of the columns {COLUMNS} ({SOURCE})")
    records = []
    for index, row in enumerate(rows):
        try:
            spec = NB201Spec.parse(row["ArchitectureString"])
            accuracy, cifar100, imagenet = (float(row[c]) for c in COLUMNS[:3])
        except (SpecError, ValueError) as e:
            raise DataError(f"{path} row {index}: {e} ({SOURCE})") from None
        records.append(Record(spec, accuracy, {
            "index": index,  # the official NB-201 architecture index
            "cifar100_test_accuracy": cifar100,
            "imagenet16_120_test_accuracy": imagenet,
            "unique_string": row["UniqueString"],
            "label_source": "CIFAR-10 test accuracy after 200 epochs, mean over seeds",
        }))
    return records


@register_loader("nb201", family="nb201")
def load_nb201(root: Path) -> list[Record]:
    """All 15,625 cells. ``accuracy``: CIFAR-10 test accuracy (percent); ``extra``: the NB-201
    ``index``, CIFAR-100 and ImageNet16-120 test accuracies (percent) and NB-201's ``unique_string``
    (equal for functionally equivalent cells). The file has no params or FLOPs."""
    return _read(root)


@register_loader("nb201/no_none", family="nb201")
def load_nb201_no_none(root: Path) -> list[Record]:
    """The 4,096 cells without a ``none`` edge, as :func:`load_nb201`."""
    return [r for r in _read(root) if "none" not in r.spec.ops]
