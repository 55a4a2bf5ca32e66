"""Live graphs: why the estimator drops computation that reaches the output only through zero ops.

How it was found. TransNAS-Bench-101's micro space searches NB-201's cell without ``avg_pool_3x3`` (same
edge order; ops none / skip / ReLU-conv1x1-BN / ReLU-conv3x3-BN) in another network, and GENNAPE missed
its best cheap signal there (zero-shot 0.446 / 0.590 against jacov 0.559 / 0.745). Yet NB-201's own
accuracy of the same cell ranks the TransNAS labels at 0.80 / 0.89 (part 1 below), so the labels are not
the obstacle. 587 of the 711 labelled cells have ``none`` edges, and the graphs kept everything upstream
of a zero op: a 3x3 conv whose only way out is a ``none`` edge looked like capacity.
:mod:`gennape.graph.live` drops it. The gain on NB-201 (all 15,625 cells) and TransNAS micro was seen on
three seeds before the rule was adopted; it was adopted on part 2, which reads no label: the live graphs
of NB-201 agree with NB-201's functional classes (``UniqueString``) far better than the full graphs.
Graphs without zero ops (NB-101, every other family) are unchanged.

1. label agreement: the SRCC between each TransNAS micro label set and the NB-201 accuracies of the
   same cell, beside jacov;
2. NB-201's 15,625 cells: distinct graphs, and how many functional classes fall on one graph, full
   and live;
3. zero-shot SRCC of each shipped seed (``gennape_seeds``), reading full graphs (the estimator before
   the change), live graphs with the networks that compute a constant read by their full graphs (live
   graphs as first adopted, commit 82c21ae) and as shipped (since commit dc5c968 those networks are
   ranked last: a constant cannot beat chance; a rule fixed before its effect on these labels was
   measured, though reading them as empty graphs had already been seen to help), on every label set
   with zero ops. The first two readings score every network with the ensemble as
   :meth:`Estimator.predict` does, but on the graphs as given (:func:`predict_reading`) instead of their
   live graphs.

    python -m experiments.live_graphs     # ~12 min on one core

The numbers measured are recorded in docs/variants.md, row live_graphs; rerunning writes
results/live_graphs/README.md and raw/results.json.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from gennape import load_estimator
from gennape.data import family_of, load
from gennape.estimator import Estimator, chunks
from gennape.evaluation import spearman
from gennape.graph import ComputeGraph
from gennape.graph.live import live_graph

TASKS = ("class_object", "class_scene")
LABEL_SETS = ("nb201", *(f"transnas_micro/{t}" for t in TASKS))  # the label sets whose graphs have zero ops
NB201_LABELS = {"CIFAR-10": None, "CIFAR-100": "cifar100_test_accuracy",
                "ImageNet16-120": "imagenet16_120_test_accuracy"}
MICRO_TO_NB201 = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")  # TransNAS op codes 0-3
SEEDS = range(5)
OUT = Path("results/live_graphs")


def label_agreement() -> dict:
    nb201 = {r.spec.ops: r for r in load("nb201")}
    out = {}
    for task in TASKS:
        records = load(f"transnas_micro/{task}")
        acc = np.array([r.accuracy for r in records])
        same = [nb201[tuple(MICRO_TO_NB201[op] for op in r.spec.edges)] for r in records]
        out[task] = {name: spearman(np.array([c.accuracy if key is None else c.extra[key] for c in same]), acc)
                     for name, key in NB201_LABELS.items()}
        out[task]["jacov"] = spearman(np.array([r.extra["jacov"] for r in records]), acc)
        out[task]["n"] = len(records)
        out[task]["with none"] = sum(0 in r.spec.edges for r in records)
    return out


def first_live_reading(graph: ComputeGraph) -> ComputeGraph:
    """The live graph as first adopted (commit 82c21ae): a network that computes a constant is read by its full
    graph."""
    return live_graph(graph) or graph


@torch.no_grad()
def predict_reading(est: Estimator, graphs: Sequence[ComputeGraph],
                    read: Callable[[ComputeGraph], ComputeGraph]) -> np.ndarray:
    """``est.predict(graphs)`` with every graph read as ``read(graph)`` in place of its live graph, so that
    every network is scored by the members (none is set aside as computing a constant): the ensemble of
    :meth:`Estimator.member_scores`'s members on the common scale, one FLOPs centring shift for the call."""
    graphs = [read(g) for g in graphs]
    names = list(est.weights)
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    shift = est.shift_of(graphs)
    for chunk in chunks(graphs):
        inputs = est.shared_inputs(chunk, shift)
        for name in names:
            out = est.members[name](inputs).detach().to(torch.float64).numpy()
            target = est.members[name].target  # the output in its score's unit, as Estimator.member_scores has it
            if target == "eq5":
                out = est.transform.inverse(out, inputs.read_macs.numpy())
            elif target == "accuracy":
                out = out * est.accuracy_stats[1] + est.accuracy_stats[0]
            parts[name].append(out)
    return est.combine({n: np.concatenate(p) for n, p in parts.items()})


def functional_classes(records, graphs) -> dict:
    out = {}
    for name, view in (("full", lambda g: g), ("live", first_live_reading)):
        hashes = [view(g).canonical_hash() for g in graphs]
        graphs_of_class = defaultdict(set)
        for r, h in zip(records, hashes):
            graphs_of_class[r.extra["unique_string"]].add(h)
        out[name] = {"distinct graphs": len(set(hashes)), "classes": len(graphs_of_class),
                     "classes on one graph": sum(len(v) == 1 for v in graphs_of_class.values())}
    return out


def measure() -> dict:
    torch.set_num_threads(1)
    data = {}
    for name in LABEL_SETS:
        records, family = load(name), family_of(name)
        data[name] = (records, [family.to_graph(r.spec) for r in records], np.array([r.accuracy for r in records]))
    result = {"agreement": label_agreement(), "classes": functional_classes(*data["nb201"][:2]), "seeds": {}}
    print(json.dumps(result["classes"]), flush=True)
    shipped = load_estimator("gennape_seeds")
    for seed in SEEDS:
        est = shipped.estimators[shipped.seeds.index(seed)]
        row = {}
        for name, (_, graphs, acc) in data.items():
            for view, read in (("full", lambda g: g), ("live", first_live_reading)):
                row[f"{name}|{view}"] = spearman(predict_reading(est, graphs, read), acc)
            row[f"{name}|shipped"] = spearman(est.predict(graphs), acc)
        result["seeds"][seed] = row
        print(f"seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    return result


def write_table(result: dict) -> None:
    def cell(key: str) -> str:
        if any(key not in row for row in result["seeds"].values()):
            return "not measured"
        values = np.array([row[key] for row in result["seeds"].values()])
        return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"

    agreement, classes = result["agreement"], result["classes"]
    lines = ["# Live graphs: computation that reaches the output only through zero ops", "",
             "Generated by `python -m experiments.live_graphs`; its docstring has the protocol and how the change "
             "was found. Spearman rank correlation (SRCC).", "",
             "## 1. TransNAS micro labels against NB-201's accuracy of the same cell", "",
             "| label set | networks (with `none`) | NB-201 CIFAR-10 | NB-201 CIFAR-100 | NB-201 ImageNet16-120 "
             "| jacov (best cheap signal) |", "|---|---|---|---|---|---|"]
    for task in TASKS:
        a = agreement[task]
        lines.append(f"| {task} | {a['n']} ({a['with none']}) | "
                     + " | ".join(f"{a[name]:.3f}" for name in (*NB201_LABELS, "jacov")) + " |")
    lines += ["", "## 2. NB-201's 15,625 cells and its functional classes (no label read)", "",
              "| graphs | distinct graphs | functional classes on one graph |", "|---|---|---|"]
    for view in ("full", "live"):
        c = classes[view]
        lines.append(f"| {view} | {c['distinct graphs']:,} | {c['classes on one graph']:,} of {c['classes']:,} |")
    lines += ["", f"## 3. GENNAPE zero-shot SRCC, mean ± sample std over the {len(result['seeds'])} shipped seeds",
              "", "| label set | full graphs (before) | live graphs (constants by full graph) "
              "| constant outputs last (shipped) |",
              "|---|---|---|---|"]
    for name in LABEL_SETS:
        lines.append(f"| {name} | " + " | ".join(cell(f"{name}|{view}") for view in ("full", "live", "shipped")) + " |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    raw = OUT / "raw" / "results.json"
    if raw.is_file():
        result = json.loads(raw.read_text())
    else:
        result = measure()
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(result, indent=1))
    write_table(result)


if __name__ == "__main__":
    main()
