"""How many torch threads ``Estimator.predict`` should use: throughput of the shipped estimator on
NB-201 graphs (sampled specs, no labelled data) with 1 thread, 2 threads, torch's default and
gennape's rule (:func:`gennape.estimator.threads.predict_threads`), on an idle machine and while a
second process keeps one core busy (a Python busy loop this script starts and stops), for a small
call (10 graphs) and a large one (4,096 graphs) by default. Then whether the scores depend on the thread count.

    python benchmarks/bench_threads.py [--sizes 10,4096] [--repeats 3]

Run it on an otherwise idle machine (it prints the load average before it starts): the "busy" rows
are meant to show one known competing process, not whatever else runs.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch

import gennape
from gennape.estimator.threads import predict_threads, torch_threads, usable_cores
from gennape.families import get


def nb201_graphs(n: int, seed: int = 0) -> list:
    family, rng = get("nb201"), random.Random(seed)
    return [family.to_graph(family.sample(rng)) for _ in range(n)]


def timed(fn, repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls (after one unmeasured call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


class BusyCore:
    """A second process spinning in a Python loop for as long as the ``with`` block lasts."""

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)  # let it get going
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,4096", help="graphs per predict call, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per cell (calls of up to 100 graphs: 10x)")
    args = parser.parse_args()
    default = torch.get_num_threads()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC; load average {os.getloadavg()[0]:.2f}; "
          f"{usable_cores()} usable cores; torch's default {default} threads; torch {torch.__version__}")
    est = gennape.load_estimator()
    counts = [int(n) for n in args.sizes.split(",")]
    graphs = nb201_graphs(max(counts))
    sizes = {n: graphs[:n] for n in counts}
    settings = {"1": 1, "2": 2, f"default ({default})": default}
    rows = []
    for load in ("idle", "busy"):
        print(f"{load}: load average {os.getloadavg()[0]:.2f}", flush=True)
        if load == "busy":
            busy = BusyCore().__enter__()
        try:
            for size, chunk in sizes.items():
                rule, measured = predict_threads(sum(g.num_nodes for g in chunk)), {}
                for label, n in [*settings.items(), (f"rule ({rule})", rule)]:
                    if n not in measured:  # "default" or "rule" may repeat 1 or 2: measured once
                        with torch_threads(n):
                            measured[n] = timed(lambda: est.predict(chunk), args.repeats * (10 if size <= 100 else 1))
                    wall = measured[n]
                    rows.append((load, size, label, wall))
                    print(f"  {load:4s} {size:5d} graphs, {label:12s} {wall * 1e3:9.1f} ms "
                          f"{size / wall:8,.0f} graphs/s", flush=True)
        finally:
            if load == "busy":
                busy.__exit__()
    print("\n| machine | graphs | threads | ms per call | graphs/s |\n|---|---:|---|---:|---:|")
    for load, size, label, wall in rows:
        print(f"| {load} | {size:,} | {label} | {wall * 1e3:,.1f} | {size / wall:,.0f} |")

    print("\nDo the scores depend on the thread count? (each call against the same call on 1 thread)")
    for size, chunk in sizes.items():
        results = {}
        for n in sorted({1, 2, default}):
            with torch_threads(n):
                results[n] = (est.predict(chunk), est.predict_accuracy(chunk))
        for n, (score, accuracy) in results.items():
            if n == 1:
                continue
            same = np.array_equal(np.argsort(-results[1][0], kind="stable"), np.argsort(-score, kind="stable"))
            print(f"  {size:5d} graphs, {n} threads: ensemble score {_compare(results[1][0], score)}, "
                  f"accuracy {_compare(results[1][1], accuracy)}, same ranking: {same}")


def _compare(a: np.ndarray, b: np.ndarray) -> str:
    return "identical" if np.array_equal(a, b) else f"max |difference| {float(np.max(np.abs(a - b))):.2g}"


if __name__ == "__main__":
    main()
