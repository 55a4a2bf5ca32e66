"""Labelled OFA-MobileNetV3 (width 1.0) sub-networks with measured ImageNet-1k val top-1 (percent).

* ``ofa_mbv3/dynast``: DyNAS-T search logs at 224 px (Pareto-biased, not uniform). Repeated measurements
  of one effective architecture (within and across the five files) are merged: mean accuracy, with
  their count and spread in ``extra``. ``flops`` are DyNAS-T's MACs (conv and linear multiply-adds).
* ``ofa_mbv3/moofa_mit`` and ``ofa_mbv3/moofa_compofa``: MOOFA's accuracy-predictor sets at 128/160/192 px.
  CompOFA is a different supernet (same architecture family, its own weights, e and d coupled per
  stage), so its accuracies are not comparable one to one with MIT OFA's.
"""

from __future__ import annotations

import ast
import csv
import json
import statistics
from pathlib import Path

from ..errors import SpecError
from ..families.ofa_mbv3 import MobileNetV3Spec
from .base import DataError, Record, register_loader, require_file

DYNAST_FILES = ("mbnv3w10_evoga_acc.csv", "mbnv3w10_evonsga2_acc_macs.csv", "mbnv3w10_evounsga3_acc_macs_params.csv",
                "mbnv3w10_linasga_acc.csv", "mbnv3w10_linasnsga2_acc_macs.csv")
DYNAST_SOURCE = "IntelLabs/DyNAS-T, notebooks/data/, commit 251cb5e"
MOOFA_SOURCE = "MaximeGirard/memory-optimized-once-for-all, acc_predictor_datasets/adapted/, commit db7c247"
MIT_SUPERNET = "ofa_mbv3_d234_e346_k357_w1.0 (MIT)"
COMPOFA_SUPERNET = ("CompOFA compound MobileNetV3 w1.0: same architecture family as MIT OFA, different "
                    "weights, e and d coupled per stage")


def _rows(path: Path):
    """(line number, row dict) of a CSV file."""
    with open(path, newline="") as f:
        yield from enumerate(csv.DictReader(f), start=2)


def _bad_row(path: Path, line: int, error: Exception) -> DataError:
    return DataError(f"{path}, line {line}: cannot read row ({type(error).__name__}: {error})")


@register_loader("ofa_mbv3/dynast", family="ofa_mbv3")
def load_dynast(root: Path) -> list[Record]:
    measured: dict[MobileNetV3Spec, list[tuple[float, int, int, str]]] = {}
    for name in DYNAST_FILES:
        path = require_file(root, f"raw/ofa_mbv3_dynast/{name}", DYNAST_SOURCE)
        for line, row in _rows(path):
            try:
                config = ast.literal_eval(row["Sub-network"])
                spec = MobileNetV3Spec.from_slots(config["ks"], config["e"], config["d"], config["r"][0], width=1.0)
                measurement = (float(row["Top-1 Acc (%)"]), int(row["Model Parameters"]), int(row["MACs"]), name)
            except (KeyError, ValueError, SyntaxError, TypeError, IndexError, SpecError) as e:
                raise _bad_row(path, line, e) from None
            measured.setdefault(spec, []).append(measurement)
    records = []
    for spec, runs in measured.items():
        accuracies = [acc for acc, *_ in runs]
        if len({(params, macs) for _, params, macs, _ in runs}) > 1:
            raise DataError(f"DyNAS-T rows of one architecture disagree on params/MACs: {spec}")
        _, params, macs, _ = runs[0]
        records.append(Record(spec, statistics.fmean(accuracies), {
            "params": params, "flops": macs, "measurements": len(runs),
            "accuracy_range": max(accuracies) - min(accuracies), "files": sorted({f for *_, f in runs}),
            "resolution": spec.resolution, "supernet": MIT_SUPERNET}))
    return records


def _load_moofa(root: Path, name: str, supernet: str) -> list[Record]:
    path = require_file(root, f"raw/ofa_mbv3_moofa/{name}", MOOFA_SOURCE)
    records = []
    for line, row in _rows(path):
        try:
            resolution = int(row["image_size"])
            spec = MobileNetV3Spec.from_slots(json.loads(row["ks"]), json.loads(row["e"]), json.loads(row["d"]),
                                              resolution, width=1.0)
            accuracy = 100 * float(row["top1_acc_frac"])
            peak_memory = float(row["peak_memory"])
        except (KeyError, ValueError, TypeError, SpecError) as e:
            raise _bad_row(path, line, e) from None
        records.append(Record(spec, accuracy, {"resolution": resolution, "peak_memory": peak_memory,
                                               "supernet": supernet}))
    return records


@register_loader("ofa_mbv3/moofa_mit", family="ofa_mbv3")
def load_moofa_mit(root: Path) -> list[Record]:
    return _load_moofa(root, "MIT_OFA.csv", MIT_SUPERNET)


@register_loader("ofa_mbv3/moofa_compofa", family="ofa_mbv3")
def load_moofa_compofa(root: Path) -> list[Record]:
    return _load_moofa(root, "CompOFA.csv", COMPOFA_SUPERNET)
