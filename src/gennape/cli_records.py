"""What ``gennape predict`` and ``gennape convert`` report, one record per model, and how it is
written: ``table`` (for people, the default), ``csv`` or ``json`` (for scripts: standard output holds
nothing else; errors go to standard error).

The record keys say what their values are: ``macs`` are multiply-adds (one counts as one FLOP);
``score_within_call`` is the ensemble score, which ranks the models of one call only (higher is
better; ``rank`` 1 is the best); ``accuracy_percent_nb101_cifar10`` is CL+FCM+T's accuracy estimate
in percent, calibrated on NAS-Bench-101's CIFAR-10 accuracies (until fine-tuned); ``constant_output``
marks a network whose output does not depend on its input (ranked last, at chance accuracy).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from typing import Sequence

import numpy as np

FORMATS = ("table", "csv", "json")

PREDICT_COLUMNS = ("rank", "model", "file", "graph_index", "nodes", "macs", "params", "score_within_call",
                   "accuracy_percent_nb101_cifar10", "constant_output", "oov_ops")
CONVERT_COLUMNS = ("model", "file", "nodes", "edges", "macs", "params", "op_counts", "oov_ops", "saved_to")

CONSTANT_NOTE = ("* its output does not depend on its input (every path to it runs through a zero op): "
                 "ranked last, at chance accuracy (after fine-tuning: what such samples scored)")


def predict_records(graphs: Sequence, sources: Sequence[tuple[str, int]], estimator) -> list[dict]:
    """One record per graph, best first (ties keep the input order); ``sources``: the file each graph
    was read from and its position in that file."""
    from .graph.live import live_graph

    scores, accuracy = estimator.predict(graphs), estimator.predict_accuracy(graphs)
    records = []
    for rank, i in enumerate(np.argsort(-scores, kind="stable"), start=1):
        g = graphs[i]
        file, index = sources[i]
        records.append({"rank": rank, "model": g.name, "file": file, "graph_index": index, "nodes": g.num_nodes,
                        "macs": g.flops, "params": g.params, "score_within_call": float(scores[i]),
                        "accuracy_percent_nb101_cifar10": float(accuracy[i]),
                        "constant_output": live_graph(g) is None, "oov_ops": g.oov_ops,
                        "op_types": sorted(set(g.ops))})  # the table's last column; not in PREDICT_COLUMNS
    return records


def convert_record(graph, file: str, saved_to: str | None = None) -> dict:
    """A converted model's record: its counts, op counts (most frequent first) and where it was saved."""
    return {"model": graph.name, "file": file, "nodes": graph.num_nodes, "edges": graph.num_edges,
            "macs": graph.flops, "params": graph.params, "op_counts": dict(Counter(graph.ops).most_common()),
            "oov_ops": graph.oov_ops, "saved_to": saved_to}


def predict_table(records: Sequence[dict]) -> str:
    """The people's table of :func:`predict_records` (``gennape predict`` and ``demo``'s output)."""
    lines = [f"{'model':<26}{'nodes':>7}{'MFLOPs (MACs)':>15}{'M params':>10}{'score':>8}{'acc. %':>8}  ops"]
    for r in records:
        mark = "*" if r["constant_output"] else " "
        ops = r["op_types"]
        lines.append(f"{r['model'][:24]:<24}{mark} {r['nodes']:>7}{r['macs'] / 1e6:>15,.1f}{r['params'] / 1e6:>10.3f}"
                     f"{r['score_within_call']:>8.2f}{r['accuracy_percent_nb101_cifar10']:>8.2f}  "
                     f"{', '.join(ops[:8])}{' ...' if len(ops) > 8 else ''}")
    if any(r["constant_output"] for r in records):
        lines.append(CONSTANT_NOTE)
    return "\n".join(lines)


def to_csv(records: Sequence[dict], columns: Sequence[str]) -> str:
    """A header line and one row per record. Lists are joined with ``;``, op counts written
    ``op=count;...``, booleans ``true``/``false``, a missing value (None) left empty; floats keep
    every digit (``repr``), so ``float()`` reads them back exactly."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({k: _csv_value(r[k]) for k in columns})
    return buffer.getvalue()


def to_json(records: Sequence[dict], columns: Sequence[str]) -> str:
    """A JSON array with one object per record (strict JSON: a score that is not finite is null)."""
    return json.dumps([{k: _json_value(r[k]) for k in columns} for r in records], indent=2, allow_nan=False) + "\n"


def render(records: Sequence[dict], columns: Sequence[str], fmt: str) -> str:
    """``records`` as ``csv`` or ``json`` text (the table is each command's own)."""
    return to_csv(records, columns) if fmt == "csv" else to_json(records, columns)


def _csv_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return ";".join(f"{k}={n}" for k, n in v.items())
    if isinstance(v, (list, tuple)):
        return ";".join(map(str, v))
    if isinstance(v, float):
        return repr(v)
    return "" if v is None else v


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
