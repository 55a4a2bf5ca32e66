"""Training the estimator on NAS-Bench-101 and fine-tuning it: settings and presets
(:mod:`.config`), the training loop (:mod:`.loop`), the stages (:mod:`.stages`), the NB-101 data
(:mod:`.nb101`), the pipeline (:mod:`.pipeline`), fine-tuning (:mod:`.fine_tuning`) and the check of
its labels (:mod:`.labels`). Only the settings load eagerly; the rest imports torch when first asked for."""

import importlib

from .config import PRESETS, FineTuneConfig, TrainConfig

#: public name -> the submodule that defines it
_LAZY = {"train_estimator": "pipeline", "NB101Run": "pipeline", "checkpointed": "pipeline",
         "fine_tune": "fine_tuning", "fine_tune_members": "fine_tuning", "recentre_output": "fine_tuning",
         "fit": "loop", "MIN_PAIR_GAP": "stages", "pretrain_encoder": "stages", "tune_encoder": "stages",
         "fit_regression_head": "stages", "fit_pairwise_head": "stages", "fit_gnn": "stages",
         "nb101_cells": "nb101", "split_nb101": "nb101", "widths_of_nb101": "nb101", "RandomWidths": "nb101",
         "sample_design_spaces": "nb101", "graphs_digest": "nb101", "check_labels": "labels",
         "check_accuracies": "labels", "same_networks": "labels", "DuplicateGraphWarning": "labels"}

__all__ = ["PRESETS", "FineTuneConfig", "TrainConfig", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'gennape.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
