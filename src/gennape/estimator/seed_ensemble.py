"""Several GENNAPE estimators, trained alike but with different seeds, averaged (a deep ensemble);
why: docs/decisions.md, "Seed ensemble". Prediction costs ``len(estimators)`` times one estimator's.

``predict`` averages the estimators' ensemble scores; each is already a rank-scale combination
in (0, 1), so the average is too; zero-shot (equal member weights) it equals one ensemble of every
seed's six members with equal weights. ``predict(member=...)`` and ``predict_accuracy`` average a
member's own output (percent for the accuracy regressors). ``fine_tune`` fine-tunes the ensemble
members of every estimator on the same samples (the reported-only members are dropped).

Files: one estimator folder per seed (:meth:`Estimator.save`) and ``seed_ensemble.json`` naming them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import EstimatorError, GennapeError
from ..graph.compute_graph import ComputeGraph
from .estimator import Estimator
from .members import CALIBRATED_MEMBER
from .scoring import check_graphs

FORMAT_VERSION = 1
INDEX_FILE = "seed_ensemble.json"


class SeedEnsemble:
    """The mean of ``estimators`` (same training settings, different seeds); same API as
    :class:`Estimator` for prediction and fine-tuning."""

    def __init__(self, estimators: Sequence[Estimator]):
        if not estimators:
            raise GennapeError("a seed ensemble needs at least one estimator")
        self.estimators = list(estimators)

    @property
    def seeds(self) -> list:
        """The training seed of each estimator (from its ``info``; None where unknown)."""
        return [est.info.get("seed") for est in self.estimators]

    def predict(self, graphs: Sequence[ComputeGraph], member: str | None = None) -> np.ndarray:
        """(len(graphs),) float64: the mean of the estimators' :meth:`Estimator.predict`, higher = better
        (``graphs`` a list, as there)."""
        graphs = check_graphs(graphs)
        return np.mean([est.predict(graphs, member) for est in self.estimators], axis=0)

    def predict_accuracy(self, graphs: Sequence[ComputeGraph]) -> np.ndarray:
        """Mean NB-101-calibrated accuracy estimate in percent (:meth:`Estimator.predict_accuracy`)."""
        graphs = check_graphs(graphs)
        return np.mean([est.predict_accuracy(graphs) for est in self.estimators], axis=0)

    def fine_tune(self, graphs: Sequence[ComputeGraph], accuracies_percent, epochs: int = 100,
                  seed: int = 0) -> SeedEnsemble:
        """A NEW seed ensemble whose estimators are each fine-tuned on the same samples
        (:meth:`Estimator.fine_tune`, same ``epochs`` and ``seed``), keeping only what ``predict``
        and ``predict_accuracy`` read: the ensemble members and CL+FCM+T."""
        graphs = check_graphs(graphs)
        return SeedEnsemble([est.fine_tune(graphs, accuracies_percent, epochs=epochs, seed=seed,
                                           members=list(dict.fromkeys([*est.weights, CALIBRATED_MEMBER])))
                             for est in self.estimators])

    def save(self, directory: str | os.PathLike) -> Path:
        """One sub-folder per estimator plus ``seed_ensemble.json``."""
        directory = Path(directory)
        names = [f"seed{s}" if s is not None else f"estimator{i}" for i, s in enumerate(self.seeds)]
        if len(set(names)) != len(names):
            names = [f"estimator{i}" for i in range(len(names))]
        for name, est in zip(names, self.estimators):
            est.save(directory / name)
        index = {"format_version": FORMAT_VERSION, "estimators": names}
        (directory / INDEX_FILE).write_text(json.dumps(index, indent=1))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> SeedEnsemble:
        """Read a seed ensemble written by :meth:`save`."""
        directory = Path(directory)
        index_path = directory / INDEX_FILE
        if not index_path.is_file():
            raise EstimatorError(f"{directory} has no {INDEX_FILE}: not a seed ensemble folder")
        try:
            index = json.loads(index_path.read_text())
            version, names = index["format_version"], list(index["estimators"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise EstimatorError(f"{index_path} is not a seed ensemble description: {e!r}") from None
        if version != FORMAT_VERSION:
            raise EstimatorError(f"{index_path} has format version {version}; this gennape reads {FORMAT_VERSION}")
        return cls([Estimator.load(directory / name) for name in names])
