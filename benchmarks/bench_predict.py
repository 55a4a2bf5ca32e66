"""Prediction throughput: graphs/s for node features + encoder + one MLP head, in eval mode without
gradients, on 1,000 random NB-201-size (about 250-node) graphs.

    python benchmarks/bench_predict.py [--graphs 1000] [--batch-size 500] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from random_graphs import random_network  # noqa: E402

from gennape.model import GraphEncoder, MLPHead, graphs_to_batch  # noqa: E402


def nb201_size_graphs(n: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [random_network(rng, int(rng.integers(32, 38)), name=f"g{i}") for i in range(n)]


def best_of(repeats: int, fn) -> tuple[float, float]:
    """Shortest (wall, process CPU) seconds of ``repeats`` calls. On a shared machine the CPU time of
    a one-thread run is the steadier number."""
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    graphs = nb201_size_graphs(args.graphs)
    nodes = np.mean([g.num_nodes for g in graphs])
    encoder, head = GraphEncoder().eval(), MLPHead().eval()
    chunks = [graphs[i:i + args.batch_size] for i in range(0, len(graphs), args.batch_size)]

    def convert():
        return [graphs_to_batch(c) for c in chunks]

    batches = convert()

    @torch.no_grad()
    def model_only():
        return [head(encoder(b)) for b in batches]

    @torch.no_grad()
    def end_to_end():
        return np.concatenate([head(encoder(graphs_to_batch(c))).numpy() for c in chunks])

    print(f"{len(graphs)} graphs, {nodes:.0f} nodes on average, batch {args.batch_size}, "
          f"{torch.get_num_threads()} torch threads")
    print(f"  {'':15s} {'wall ms':>9s} {'graphs/s':>10s} {'CPU ms':>9s} {'graphs/CPU-s':>13s}")
    for label, fn in (("features", convert), ("encoder + head", model_only), ("end to end", end_to_end)):
        wall, cpu = best_of(args.repeats, fn)
        print(f"  {label:15s} {wall * 1e3:9.1f} {len(graphs) / wall:10,.0f} {cpu * 1e3:9.1f} "
              f"{len(graphs) / cpu:13,.0f}")


if __name__ == "__main__":
    main()
