"""How many torch threads a prediction uses: :func:`predict_threads` (the rule) and
:func:`torch_threads` (a context manager that sets them for one call and restores them after).

The rule, from ``benchmarks/bench_threads.py`` on a 2-core machine (shipped estimator, NB-201
graphs of about 230 nodes): with the machine idle, a second thread pays from about 128 graphs on
(1.5x at 128 to 4,096 graphs) but not for 10 (16 ms against 14 ms on one); with one other busy
process, two threads are 1.4x to 2.4x slower than one at every size (and far worse with several),
while one thread keeps its speed. So a call gets one thread per :data:`NODES_PER_THREAD` graph nodes,
and never all the cores: at most one fewer than the process may use (at least one). On 2 cores
that is always one thread; on 16, up to 15 for calls of 150,000 nodes or more. It depends only on
the call and the core count, never on the load: on a given machine a call scores the same
whatever else runs (the ensemble score was identical on 1 and 2 threads for every call measured;
accuracies differed by at most 1.2e-6 percentage points, on calls of 5 and 10 graphs).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator, Optional

#: graph nodes per torch thread (see the module docstring)
NODES_PER_THREAD = 10_000


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it, else every core)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def predict_threads(nodes: int, cores: Optional[int] = None) -> int:
    """Torch threads for scoring graphs of ``nodes`` nodes in all on ``cores`` cores (default
    :func:`usable_cores`): one per :data:`NODES_PER_THREAD` nodes, at most ``cores - 1``, at least 1."""
    cores = usable_cores() if cores is None else max(1, int(cores))
    return max(1, min(cores - 1, int(nodes) // NODES_PER_THREAD))


@contextmanager
def torch_threads(n: Optional[int]) -> Iterator[int]:
    """Run the ``with`` block on ``n`` torch threads (None or 0: leave them as they are), then
    restore the previous count; yields the count in force."""
    import torch

    previous = torch.get_num_threads()
    if n is not None and n < 0:
        raise ValueError(f"a thread count must be positive, got {n}")
    if n and n != previous:
        torch.set_num_threads(n)
    try:
        yield torch.get_num_threads()
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
