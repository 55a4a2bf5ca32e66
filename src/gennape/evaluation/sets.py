"""The labelled evaluation sets: every family row of the reproduction's tables, with where its
labels come from, and loading their graphs and accuracies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data import load
from ..data.graph_cache import dataset_graphs
from ..graph.compute_graph import ComputeGraph
from ..registry import Registry


@dataclass(frozen=True)
class EvalSet:
    """One row of the family tables: data set ``dataset`` labelled by ``label`` (a key of the
    records' ``extra``; None = the record's own accuracy), described by ``source``; ``paper`` names
    the GENNAPE table row it corresponds to, if any."""
    key: str
    dataset: str
    title: str
    source: str
    label: str | None = None
    paper: str | None = None


NB101_SOURCE = ("NB-101: CIFAR-10 108-epoch validation accuracy (one run), 20,001-cell uniform sample "
                "(the paper: 50k cells); seeded 80/10/10 split, numbers on validation-2")
EVAL_SETS: Registry[EvalSet] = Registry("evaluation set")
for _set in (
    EvalSet("nb201/no_none", "nb201/no_none", "NB-201 (4,096 cells w/o none)",
            "CIFAR-10 test accuracy, 200 epochs, mean over seeds; the paper's 4,096 cells", paper="NB-201"),
    EvalSet("nb201/no_none:cifar100", "nb201/no_none", "NB-201 CIFAR-100 (4,096)",
            "CIFAR-100 test accuracy, 200 epochs; scored on the CIFAR-10 graphs (10-class head), as GENNAPE "
            "scores its CIFAR-10 CGs", label="cifar100_test_accuracy"),
    EvalSet("nb201/no_none:imagenet16_120", "nb201/no_none", "NB-201 ImageNet16-120 (4,096)",
            "ImageNet16-120 test accuracy, 200 epochs; scored on the CIFAR-10 graphs, as GENNAPE does",
            label="imagenet16_120_test_accuracy"),
    EvalSet("nb201", "nb201", "NB-201 (all 15,625 cells)", "CIFAR-10 test accuracy, 200 epochs, mean over seeds"),
    EvalSet("ofa_mbv3/dynast", "ofa_mbv3/dynast", "OFA-MBv3 DyNAS-T",
            "ImageNet top-1 at 224 px, OFA-MBv3 w1.0 (MIT), 2,162 subnets found by searches (the paper: w1.2, "
            "7.5k random subnets)", paper="OFA-MBv3"),
    EvalSet("ofa_mbv3/moofa_mit", "ofa_mbv3/moofa_mit", "OFA-MBv3 MOOFA (MIT)",
            "ImageNet top-1 at 128/160/192 px, OFA-MBv3 w1.0 (MIT weights), 2,610 subnets", paper="OFA-MBv3"),
    EvalSet("ofa_mbv3/moofa_compofa", "ofa_mbv3/moofa_compofa", "OFA-MBv3 MOOFA (CompOFA)",
            "ImageNet top-1 at 128/160/192 px, CompOFA w1.0 weights, 2,080 subnets", paper="OFA-MBv3"),
    EvalSet("nb301", "nb301", "NB-301 (surrogate labels)",
            "surrogate labels: NB-301 v1.0 XGBoost prediction of CIFAR-10 validation accuracy, 725 DARTS genotypes "
            "(the paper: 10k trained)", paper="NB-301"),
    EvalSet("nas_bench_macro", "nas_bench_macro", "NAS-Bench-Macro",
            "CIFAR-10 test accuracy, mean of 3 runs, 3,969 distinct networks"),
    EvalSet("accel_nasbench", "accel_nasbench", "Accel-NASBench",
            "ImageNet top-1 after a cheaper searched training proxy, 5,138 networks"),
    EvalSet("transnas_macro/class_object", "transnas_macro/class_object", "TransNAS macro object",
            "Taskonomy object classification top-1, 662 networks"),
    EvalSet("transnas_macro/class_scene", "transnas_macro/class_scene", "TransNAS macro scene",
            "Taskonomy scene classification top-1, 662 networks"),
    EvalSet("transnas_micro/class_object", "transnas_micro/class_object", "TransNAS micro object",
            "Taskonomy object classification top-1, 711 networks"),
    EvalSet("transnas_micro/class_scene", "transnas_micro/class_scene", "TransNAS micro scene",
            "Taskonomy scene classification top-1, 711 networks"),
):
    EVAL_SETS.register(_set.key, _set)


def load_sets(sets: Sequence[EvalSet], max_records: int | None = None
              ) -> dict[str, tuple[list[ComputeGraph], np.ndarray]]:
    """{key: (graphs, accuracies in percent)} of every eval set, graphs from the cache (built once,
    shared by the sets of one data set); with ``max_records`` a fixed random subsample of each."""
    out, cache = {}, {}
    for s in sets:
        if s.dataset not in cache:
            records = load(s.dataset)
            keep = np.arange(len(records))
            if max_records is not None and max_records < len(records):
                keep = np.sort(np.random.default_rng(0).choice(len(records), max_records, replace=False))
            graphs = dataset_graphs(s.dataset, progress=False)
            cache[s.dataset] = ([records[i] for i in keep], [graphs[i] for i in keep])
        records, graphs = cache[s.dataset]
        acc = np.array([r.accuracy if s.label is None else r.extra[s.label] for r in records], dtype=np.float64)
        out[s.key] = (graphs, acc)
    return out
