"""GENNAPE's evaluation: the metrics (:mod:`.metrics`), the protocol (:mod:`.protocol`: zero-shot,
50-shot, NB-101 validation-2), the labelled evaluation sets (:mod:`.sets`) and the figures
(:mod:`.plots`, imported on demand: it loads matplotlib)."""

from .metrics import kendall_tau, mae, ndcg, spearman, summary, top_k_precision
from .protocol import (
    CHEAP_BASELINES,
    ENSEMBLES,
    few_shot,
    finetune_split,
    method_scores,
    methods_of,
    nb101_val2,
    score_metrics,
    zero_shot,
)
from .sets import EVAL_SETS, NB101_SOURCE, EvalSet, load_sets

__all__ = ["CHEAP_BASELINES", "ENSEMBLES", "EVAL_SETS", "NB101_SOURCE", "EvalSet", "few_shot", "finetune_split",
           "kendall_tau", "load_sets", "mae", "method_scores", "methods_of", "nb101_val2", "ndcg", "score_metrics",
           "spearman", "summary", "top_k_precision", "zero_shot"]
