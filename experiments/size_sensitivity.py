"""Size sensitivity: does each estimator member score the bigger of two otherwise equal mobile networks higher?

A label-free diagnostic of the spaces where zero-shot transfer stays below FLOPs or params.
Pairs of networks differ in one block, the second one bigger: a higher expansion ratio, a larger kernel,
one more layer, a squeeze-excite block (Accel-NASBench), or a real layer in place of an identity, or a
larger block (NAS-Bench-Macro). The table gives the share of pairs in which each member of each shipped
seed (``gennape_seeds``) scores the bigger network higher, scoring both networks of every pair in one call.
FLOPs rises in every pair. "Embedding shift" is how far the bigger network's encoder embedding lies
from the smaller one's, as a fraction of the mean distance of the smaller networks' embeddings from their
mean: whether the encoder sees the change at all. NAS-Bench-Macro is fully labelled, so its rows also
give the share of pairs in which the measured accuracy rises. That column is for reading the table only;
nothing here selects anything.

    python -m experiments.size_sensitivity      # ~3 min on one core

The numbers measured are recorded in docs/variants.md, row size_sensitivity; rerunning writes
results/size_sensitivity/README.md and raw/results.json.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch

from gennape import load_estimator
from gennape.data import load
from gennape.families import get
from gennape.families.accel_nasbench import BLOCK_PLAN, AccelBlock, AccelSpec
from gennape.families.nas_bench_macro import MacroSpec

OUT = Path("results/size_sensitivity")
SEEDS = (0, 1, 2, 3, 4)
PAIRS = 300  # per change
MEMBERS = ("cl_fcm_t", "cl_t", "cl_fcm", "cl", "cl_pairwise_fcm", "cl_pairwise", "kgnn")


def _accel(what: str):
    def grow(spec: AccelSpec, b: int) -> AccelSpec | None:
        e, k, n, se = spec.blocks[b]
        if what == "expansion 1->4 or 4->6":
            bigger = AccelBlock({1: 4, 4: 6}[e], k, n, se) if e < 6 else None
        elif what == "kernel 3->5":
            bigger = AccelBlock(e, 5, n, se) if k == 3 else None
        elif what == "one more layer":
            bigger = AccelBlock(e, k, n + 1, se) if n < max(BLOCK_PLAN[b][3]) else None
        else:
            bigger = AccelBlock(e, k, n, True) if not se else None
        return None if bigger is None else AccelSpec(spec.blocks[:b] + (bigger,) + spec.blocks[b + 1:])
    return grow


def _macro(old: int, new: int):
    def grow(spec: MacroSpec, i: int) -> MacroSpec | None:
        layers = list(spec.layers)
        if layers[i] != old:
            return None
        layers[i] = new
        return MacroSpec(tuple(layers))
    return grow


CHANGES = {
    "accel_nasbench": {w: _accel(w) for w in ("expansion 1->4 or 4->6", "kernel 3->5", "one more layer",
                                              "squeeze-excite added")},
    "nas_bench_macro": {"identity -> MBv2 k3 e3": _macro(0, 1), "MBv2 k3 e3 -> k5 e6": _macro(1, 2)},
}


def pairs_of(family: str, grow, rng: random.Random) -> list[tuple]:
    fam, pairs = get(family), []
    while len(pairs) < PAIRS:
        spec = fam.sample(rng)
        positions = list(range(len(spec.blocks if family == "accel_nasbench" else spec.layers)))
        rng.shuffle(positions)
        for position in positions:
            bigger = grow(spec, position)
            if bigger is not None and bigger != spec:
                pairs.append((spec, bigger))
                break
    return pairs


def measure() -> dict:
    torch.set_num_threads(1)
    labels = {rec.spec: rec.accuracy for rec in load("nas_bench_macro")}
    shipped = load_estimator("gennape_seeds")
    estimators = {s: shipped.estimators[shipped.seeds.index(s)] for s in SEEDS}
    result = {}
    for family, changes in CHANGES.items():
        fam = get(family)
        for change, grow in changes.items():
            pairs = pairs_of(family, grow, random.Random(0))
            graphs = [fam.to_graph(a) for a, _ in pairs] + [fam.to_graph(b) for _, b in pairs]
            n = len(pairs)
            row = {"pairs": n, "flops": float(np.mean([graphs[n + i].flops > graphs[i].flops for i in range(n)]))}
            if family == "nas_bench_macro":
                row["label"] = float(np.mean([labels[b] > labels[a] for a, b in pairs]))
            for seed, est in estimators.items():
                scores = est.member_scores(graphs, MEMBERS)
                row[seed] = {m: float(np.mean(s[n:] > s[:n])) for m, s in scores.items()}
                h = np.asarray(est.encoder.embed(graphs))
                spread = np.linalg.norm(h[:n] - h[:n].mean(0), axis=1).mean()
                row[seed]["embedding shift"] = float(np.linalg.norm(h[n:] - h[:n], axis=1).mean() / spread)
            result[f"{family}|{change}"] = row
            print(family, change, json.dumps({m: row[3][m] for m in MEMBERS}), flush=True)
    return result


def write_table(result: dict) -> None:
    lines = ["# Size sensitivity of the estimator members", "",
             "Generated by `python -m experiments.size_sensitivity`; its docstring has the protocol. Share of pairs "
             "in which the bigger network scores higher, mean ± sample std over the 5 shipped seeds. "
             "FLOPs rises in every pair. The label column (NAS-Bench-Macro only, CIFAR-10 test accuracy) is the "
             "share of pairs in which the measured accuracy rises. Embedding shift: see the docstring.", "",
             "| space | change | pairs | embedding shift | label | " + " | ".join(MEMBERS) + " |",
             "|---|---|---|---|---|" + "---|" * len(MEMBERS)]
    for key, row in result.items():
        family, change = key.split("|")
        cells = []
        for m in ("embedding shift", *MEMBERS):
            v = np.array([row[str(s)][m] for s in SEEDS])
            cells.append(f"{v.mean():.2f} ± {v.std(ddof=1):.2f}")
        label = f"{row['label']:.2f}" if "label" in row else "-"
        lines.append(f"| {family} | {change} | {row['pairs']} | {cells[0]} | {label} | " + " | ".join(cells[1:]) + " |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    raw = OUT / "raw" / "results.json"
    if not raw.is_file():
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(measure(), indent=1))
    write_table(json.loads(raw.read_text()))


if __name__ == "__main__":
    main()
