"""The one check of measured accuracies (labels) before fine-tuning, shared by :func:`.fine_tune`
(so :meth:`Estimator.fine_tune` and :meth:`SeedEnsemble.fine_tune`) and ``gennape fine-tune
labels.csv``. Every refusal is a :class:`~gennape.errors.LabelError` that says how to fix the labels.

Rules: accuracies are finite percentages in [0, 100], not fractions (all at most 1), with at least
two different values (fine-tuning learns a ranking); one network listed twice is refused when it is
the same object (the command line: the same file), and only warned about
(:class:`DuplicateGraphWarning`) when two separate graphs are equal: benchmarks list one network
measured twice (NB-201, Accel-NASBench), and each measurement is a sample.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ..errors import LabelError
from ..graph.compute_graph import ComputeGraph

#: how many problems one error lists before "and N more"
_SHOWN = 5


class DuplicateGraphWarning(UserWarning):
    """Two samples are the same network (equal graphs, separate objects); both are kept."""


def accuracy_problem(value: float) -> str | None:
    """Why one accuracy (percent) cannot be a label, or None when it can."""
    if not math.isfinite(value):
        return f"accuracy {value:g} is not a finite number"
    if not 0.0 <= value <= 100.0:
        return f"accuracy {value:g} is not a percentage between 0 and 100"
    return None


def check_accuracies(accuracies, where: str = "accuracies_percent") -> np.ndarray:
    """(n,) float64: ``accuracies`` (percent), or :class:`LabelError` when one is not a finite
    percentage in [0, 100], when all are at most 1 (fractions) or all equal; ``where`` names them
    in the message (an argument name, a file)."""
    try:
        acc = np.asarray(accuracies, dtype=np.float64).ravel()
    except (TypeError, ValueError) as e:
        raise LabelError(f"{where} must be numbers, percentages from 0 to 100 ({e})") from None
    bad = [f"{where}[{i}]: {problem}" for i, v in enumerate(acc) if (problem := accuracy_problem(v))]
    if bad:
        raise LabelError(_listed(bad))
    if len(acc) and acc.max() <= 1.0:
        raise LabelError(f"every accuracy in {where} is at most 1: give percentages (0-100), not fractions")
    if len(acc) and acc.min() == acc.max():
        raise LabelError(f"every accuracy in {where} is {acc[0]:g}: fine-tuning learns how networks rank, so it "
                         "needs at least two different accuracies")
    return acc


def same_networks(graphs: Sequence[ComputeGraph]) -> list[list[int]]:
    """Groups of the indices (ascending) of ``graphs`` that are one network: equal graphs
    (:meth:`ComputeGraph.canonical_form`, computed only for graphs of equal size and costs), the
    same object included; graphs that are no other's are left out."""
    by_size = defaultdict(list)
    for i, g in enumerate(graphs):
        by_size[(g.num_nodes, g.num_edges, g.flops, g.params)].append(i)
    groups = []
    for indices in (v for v in by_size.values() if len(v) > 1):
        by_form = defaultdict(list)
        for i in indices:
            by_form[graphs[i].canonical_form()].append(i)
        groups += [v for v in by_form.values() if len(v) > 1]
    return sorted(groups)


def check_labels(graphs: Sequence[ComputeGraph], accuracies, where: str = "accuracies_percent") -> np.ndarray:
    """(n,) float64 accuracies (percent) of ``graphs``, one each, checked by :func:`check_accuracies`;
    :class:`LabelError` when the counts differ, there are fewer than 2, or one graph object is listed
    twice; a :class:`DuplicateGraphWarning` names the equal graphs listed separately."""
    acc = check_accuracies(accuracies, where)
    if len(acc) != len(graphs) or len(acc) < 2:
        raise LabelError(f"fine_tune needs at least 2 graphs with one accuracy each; got {len(graphs)} graphs and "
                         f"{len(acc)} accuracies")
    repeated, equal = [], []
    for group in same_networks(graphs):
        by_object = defaultdict(list)
        for i in group:
            by_object[id(graphs[i])].append(i)
        repeated += [v for v in by_object.values() if len(v) > 1]
        if len(by_object) > 1:
            equal.append(group)
    if repeated:
        raise LabelError(_listed([f"graphs {_indices(v)} are the same ComputeGraph object" for v in repeated])
                         + ": list each network once (measured several times: pass the mean accuracy)")
    if equal:
        warnings.warn(_listed([f"graphs {_indices(v)} are equal" for v in equal]) + " (the same network): each "
                      "counts as a sample of its own", DuplicateGraphWarning, stacklevel=3)
    return acc


def _indices(indices: Sequence[int]) -> str:
    return ", ".join(map(str, indices[:-1])) + f" and {indices[-1]}"


def _listed(problems: list[str]) -> str:
    more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    return "; ".join(problems[:_SHOWN]) + more
