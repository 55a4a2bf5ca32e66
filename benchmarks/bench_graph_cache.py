"""Graph cache timings: build every graph of a labelled family cold (in parallel processes), then
load the cache warm, and report the mean graph size.

    python benchmarks/bench_graph_cache.py [--families nb101 nb201] [--workers N]

NB-101 uses the 20,001 cells of the ``nb101`` data set (their loading, which recovers every cell
from its hash, is timed separately); NB-201 uses all 15,625 cells of the space. The cache goes to
a temporary directory, so the user cache is neither used nor changed.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from gennape import families
from gennape.data import load
from gennape.data.graph_cache import graphs_for


def specs_of(family_name: str) -> list:
    if family_name == "nb101":
        return [rec.spec for rec in load("nb101")]
    return list(families.get(family_name).enumerate())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=["nb101", "nb201"])
    parser.add_argument("--workers", type=int, default=None, help="default: one per usable core")
    args = parser.parse_args()
    rows = []
    for name in args.families:
        start = time.perf_counter()
        specs = specs_of(name)
        t_specs = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as cache_dir:
            start = time.perf_counter()
            graphs = graphs_for(name, specs, name=name, workers=args.workers, cache_dir=cache_dir)
            t_cold = time.perf_counter() - start
            start = time.perf_counter()
            warm = graphs_for(name, specs, name=name, workers=args.workers, cache_dir=cache_dir,
                              progress=False)
            t_warm = time.perf_counter() - start
        assert len(warm) == len(graphs)
        nodes = np.mean([g.num_nodes for g in graphs])
        rows.append((name, len(graphs), t_specs, t_cold, 1e3 * t_cold / len(graphs), t_warm, nodes))
    print(f"{'family':8} {'graphs':>7} {'specs s':>8} {'cold s':>7} {'ms/graph':>9} {'warm s':>7} "
          f"{'nodes':>6}")
    for name, n, t_specs, t_cold, per_graph, t_warm, nodes in rows:
        print(f"{name:8} {n:7d} {t_specs:8.1f} {t_cold:7.1f} {per_graph:9.2f} {t_warm:7.2f} {nodes:6.1f}")


if __name__ == "__main__":
    main()
