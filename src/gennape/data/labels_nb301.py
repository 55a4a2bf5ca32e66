"""Loader ``nb301``: 725 DARTS genotypes from NASLib's NAS-Bench-Suite-Zero file, labelled with
the NB-301 v1.0 XGBoost **surrogate**'s predicted CIFAR-10 validation accuracy (not trained results)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from ..errors import SpecError
from ..families.darts import OPS, DartsSpec
from .base import DataError, Record, register_loader, require_file

FILE = "raw/nasbench301/zc_nasbench301.json"
SOURCE = "NAS-Bench-301 genotypes with zero-cost proxies, automl/NASLib naslib/data/zc_nasbench301.json"
LABEL_SOURCE = "surrogate (NB-301 v1.0 XGBoost)"
PROXIES = ("synflow", "grasp", "fisher", "grad_norm", "l2_norm", "plain", "nwot", "epe_nas", "jacov", "snip")


def spec_from_compact(compact) -> DartsSpec:
    """A :class:`DartsSpec` from NASLib's compact form: [normal, reduce], each 8 (input, op index)
    pairs, op indices into :data:`gennape.families.darts.OPS`."""
    return DartsSpec(*[[(OPS[op], node) for node, op in cell] for cell in compact])


@register_loader("nb301", family="darts")
def load_nb301(root: Path) -> list[Record]:
    """``accuracy``: surrogate CIFAR-10 validation accuracy (percent). ``extra``: ``label_source``,
    ``params`` (an exact count; the file gives millions to 6 decimals), ``flops`` and ``flops_unit``
    (MFLOPs of NASLib's counter, as in the file), the NASLib ``index`` and the zero-cost proxies
    under their NASLib names."""
    path = require_file(root, FILE, SOURCE)
    try:
        rows = json.loads(path.read_text())["cifar10"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise DataError(f"{path} is not the expected JSON with a 'cifar10' table ({e!r}); {SOURCE}") from None
    records = []
    for key, row in rows.items():
        try:
            spec = spec_from_compact(ast.literal_eval(key))
            extra = {"label_source": LABEL_SOURCE, "index": int(row["idx"]),
                     "params": round(row["params"]["score"] * 1e6), "flops": round(row["flops"]["score"] * 1e6),
                     "flops_unit": "NASLib counter (3-11 % above our multiply-adds: it also counts "
                                   "normalisation, pooling and element-wise ops)"}
            extra.update((p, float(row[p]["score"])) for p in PROXIES)
            records.append(Record(spec, float(row["val_accuracy"]), extra))
        except (SpecError, ValueError, SyntaxError, KeyError, TypeError, IndexError) as e:
            raise DataError(f"{path}: entry {key!r} is malformed ({e!r}); {SOURCE}") from None
    return records
