"""Loaders ``transnas_{macro,micro}/{class_object,class_scene}``: the TransNAS-Bench-101 subsets of
NAS-Bench-Suite-Zero (NASLib), with top-1 validation accuracy on Taskonomy classification and the
zero-cost proxy scores the file carries."""

from __future__ import annotations

import ast
import json
from functools import partial
from pathlib import Path

from ..families.transnas import MacroSpec, MicroSpec, TransNASMacro, TransNASMicro
from .base import DataError, Record, register_loader, require_file

FILES = {"macro": "raw/transnas_bench101_zc/zc_transbench101_macro.json",
         "micro": "raw/transnas_bench101_zc/zc_transbench101_micro.json"}
SOURCE = "NAS-Bench-Suite-Zero, automl/NASLib naslib/data/zc_transbench101_{space}.json (commit e5a821c)"
TASKS = ("class_object", "class_scene")
PROXIES = ("grasp", "fisher", "grad_norm", "l2_norm", "plain", "nwot", "epe_nas", "jacov", "snip")


def load_transnas(root: Path, space: str, task: str) -> list[Record]:
    """One record per architecture: ``accuracy`` = top-1 validation accuracy in percent; ``extra``:
    ``params`` (count, encoder plus the classification head), ``flops`` (NASLib's count, which is
    0.1-1.2 % above conv and linear multiply-adds; ``flops_unit`` says so), the zero-cost proxy
    scores (``grasp``, ``fisher``, ..., ``snip``), ``task``, ``metric`` and NASLib's ``idx``."""
    source = SOURCE.format(space=space)
    path = require_file(root, FILES[space], source)
    try:
        rows = json.loads(path.read_text())[task]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise DataError(f"{path} has no readable task {task!r} ({type(e).__name__}: {e}); expected the "
                        f"{source} file") from None
    records = []
    for key, row in rows.items():
        try:
            arch = tuple(ast.literal_eval(row["arch"]))
            spec = MacroSpec(tuple(c for c in arch if c)) if space == "macro" else MicroSpec(arch)
            extra = {"params": round(row["params"]["score"] * 1e6), "flops": round(row["flops"]["score"] * 1e6),
                     "flops_unit": "NASLib count (about 1 % above multiply-adds)",
                     **{p: row[p]["score"] for p in PROXIES},
                     "task": task, "metric": "top-1 accuracy (%)", "idx": int(row["idx"])}
            records.append(Record(spec, float(row["val_accuracy"]), extra))
        except (KeyError, TypeError, ValueError, SyntaxError) as e:
            raise DataError(f"{path}: task {task!r} entry {key!r} is malformed ({type(e).__name__}: {e})") from None
    return records


for _space in FILES:
    for _task in TASKS:
        _family = partial({"macro": TransNASMacro, "micro": TransNASMicro}[_space], _task)
        register_loader(f"transnas_{_space}/{_task}", family=_family)(
            partial(load_transnas, space=_space, task=_task))
