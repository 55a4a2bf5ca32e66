"""The shipped estimator's speed: load time after ``import gennape``, prediction throughput on 1,000
NB-201 graphs (full ensemble and CL+FCM+T alone, graph -> tensor conversion included), and the time
to fine-tune on 50 samples.

    python benchmarks/bench_estimator.py [--graphs 1000] [--threads 1] [--estimator NAME]

``--estimator``: a shipped estimator, "gennape" (default) or "gennape_seeds" (the seed ensemble).
"""

from __future__ import annotations

import argparse
import random
import time

t_start = time.perf_counter()
import gennape

t_import = time.perf_counter() - t_start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--estimator", default="gennape", choices=gennape.PRETRAINED, help="shipped estimator")
    args = parser.parse_args()

    start = time.perf_counter()
    import torch  # gennape itself imports torch and torch_geometric only when a model is needed
    import torch_geometric  # noqa: F401

    t_stack = time.perf_counter() - start
    start = time.perf_counter()
    est = gennape.load_pretrained(args.estimator)
    first_load = time.perf_counter() - start
    start = time.perf_counter()
    est = gennape.load_pretrained(args.estimator)
    second_load = time.perf_counter() - start
    print(f"import gennape {t_import * 1e3:.0f} ms; import torch + torch_geometric {t_stack * 1e3:.0f} ms; "
          f"first load_pretrained {first_load * 1e3:.0f} ms, second {second_load * 1e3:.0f} ms")

    import numpy as np

    from gennape import families

    if args.threads:
        torch.set_num_threads(args.threads)
    nb201 = families.get("nb201")
    graphs = [nb201.to_graph(nb201.sample(random.Random(i))) for i in range(args.graphs)]
    print(f"{len(graphs)} NB-201 graphs, {np.mean([g.num_nodes for g in graphs]):.0f} nodes on average, "
          f"{torch.get_num_threads()} torch threads")
    for label, fn in (("full ensemble", lambda: est.predict(graphs)),
                      ("CL+FCM+T alone", lambda: est.predict(graphs, member="cl_fcm_t"))):
        wall = min(_timed(fn) for _ in range(args.repeats))
        print(f"  predict, {label:15s} {wall * 1e3:8.1f} ms  {len(graphs) / wall:8,.0f} graphs/s")

    acc = np.random.default_rng(0).uniform(85, 94, 50)
    wall = _timed(lambda: est.fine_tune(graphs[:50], acc, epochs=100, seed=0))
    print(f"  fine-tune, 50 samples x 100 epochs: {wall:.1f} s")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
