"""Per-family table: space size, graph size and speed, and agreement with every labelled data set.

    python benchmarks/family_table.py            # all families and data sets (graphs cached)

Graphs per second: ``to_graph`` of 50 sampled specs in one process, CPU time. Agreement: the share
of records whose graph ``params`` equal the file's exactly, and the file's FLOPs over our
multiply-adds (median and range) where the file has FLOPs.
"""

from __future__ import annotations

import random
import time

import numpy as np

from gennape import data, families
from gennape.data.graph_cache import dataset_graphs


def family_rows(n_samples: int = 50) -> None:
    print(f"{'family':<16}{'space size':>28}{'nodes/graph':>13}{'graphs/s':>10}{'MFLOPs (MACs) of samples':>28}")
    for name in families.names():
        fam = families.get(name)
        rng = random.Random(0)
        specs = [fam.sample(rng) for _ in range(n_samples)]
        start = time.process_time()
        graphs = [fam.to_graph(s) for s in specs]
        rate = n_samples / (time.process_time() - start)
        flops = np.array([g.flops for g in graphs]) / 1e6
        size = f"{fam.space_size:,}" if fam.space_size else "~1e55" if name == "inception" else "~1.7e27"
        print(f"{name:<16}{size:>28}{np.mean([g.num_nodes for g in graphs]):>13.1f}{rate:>10.0f}"
              f"{f'{flops.min():,.0f} - {np.median(flops):,.0f} - {flops.max():,.0f}':>28}")


def dataset_rows() -> None:
    print(f"\n{'data set':<30}{'records':>8}{'family':>16}{'params exact':>15}{'file FLOPs / ours':>28}"
          f"{'accuracy % range':>18}")
    for name in data.names():
        records = data.load(name)
        graphs = dataset_graphs(name, progress=False)
        acc = np.array([r.accuracy for r in records])
        with_params = [(r, g) for r, g in zip(records, graphs) if "params" in r.extra]
        exact = sum(r.extra["params"] == g.params for r, g in with_params)
        params = f"{exact}/{len(with_params)}" if with_params else "-"
        ratios = np.array([r.extra["flops"] / g.flops for r, g in zip(records, graphs) if "flops" in r.extra])
        flops = (f"{np.median(ratios):.4f} ({ratios.min():.3f}-{ratios.max():.3f})" if len(ratios) else "-")
        print(f"{name:<30}{len(records):>8}{data.family_of(name).name:>16}{params:>15}{flops:>28}"
              f"{f'{acc.min():.2f}-{acc.max():.2f}':>18}")


if __name__ == "__main__":
    family_rows()
    dataset_rows()
