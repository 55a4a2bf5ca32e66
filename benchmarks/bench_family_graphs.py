"""Graph-building speed of the NB-101 and NB-201 families (single process) and NB-101 parameter
agreement with all 1,000 cells of NAS-Bench-101's data-1k.json.

    python benchmarks/bench_family_graphs.py [--specs 500]
"""

from __future__ import annotations

import argparse
import json
import random
import time

from gennape.data import data_root
from gennape.families import get
from gennape.families.nb101 import OPS, NB101Spec


def graphs_per_second(name: str, n: int) -> tuple[float, float]:
    """(graphs per CPU second, mean nodes per graph) for ``to_graph`` on ``n`` sampled specs. CPU
    time of this process, so that other load on the machine does not count."""
    family = get(name)
    rng = random.Random(0)
    specs = [family.sample(rng) for _ in range(n)]
    start = time.process_time()
    nodes = sum(family.to_graph(spec).num_nodes for spec in specs)
    return n / (time.process_time() - start), nodes / n


def nb101_params_agreement() -> tuple[int, int]:
    """(cells whose graph params equal NB-101's trainable_parameters, cells) over data-1k.json."""
    data = json.loads((data_root() / "raw" / "nasbench101" / "data-1k.json").read_text())
    names = {-1: "input", -2: "output", 0: OPS[0], 1: OPS[1], 2: OPS[2]}
    family, agree = get("nb101"), 0
    for adjacency, labels, params in zip(data["adjacency"], data["operations"], data["trainable_parameters"]):
        n = sum(1 for o in labels if o != -3)
        spec = NB101Spec.from_cell([row[:n] for row in adjacency[:n]], [names[o] for o in labels[:n]])
        agree += family.to_graph(spec).params == params
    return agree, len(data["key"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=500, help="sampled specs per family")
    args = parser.parse_args()
    for name in ("nb101", "nb201"):
        rate, nodes = graphs_per_second(name, args.specs)
        print(f"{name}: {rate:,.0f} graphs per CPU second (one process), {nodes:.1f} nodes per graph on average")
    agree, total = nb101_params_agreement()
    print(f"nb101 params equal to NB-101 trainable_parameters: {agree}/{total} cells of data-1k.json")


if __name__ == "__main__":
    main()
