"""``gennape reproduce`` (also ``python -m gennape.reproduce``): GENNAPE's evaluation reproduced
seed by seed. The run (:mod:`.runner`), aggregation over seeds (:mod:`.aggregate`), the Markdown
report (:mod:`.report`) and the paper's numbers (:mod:`.paper`)."""

import warnings

from .aggregate import aggregate, best_seed, finished_seeds, mean_std
from .report import beside_one_seed, comparison, readme, write_tables
from .runner import SEEDS, reproduce, run_seed, settings

__all__ = ["SEEDS", "aggregate", "beside_one_seed", "best_seed", "comparison", "finished_seeds", "mean_std",
           "readme", "reproduce", "run_seed", "settings", "write_tables"]


def __getattr__(name):
    # the evaluation sets moved to gennape.evaluation (a registry); the old tuple and dict still work
    from .. import evaluation

    if name in ("EVAL_SETS", "EVAL_SET_BY_KEY", "load_sets", "EvalSet"):
        warnings.warn(f"gennape.reproduce.{name} moved to gennape.evaluation", DeprecationWarning, stacklevel=2)
        if name == "EVAL_SETS":
            return tuple(evaluation.EVAL_SETS.values())
        if name == "EVAL_SET_BY_KEY":
            return {s.key: s for s in evaluation.EVAL_SETS.values()}
        return getattr(evaluation, name)
    raise AttributeError(f"module 'gennape.reproduce' has no attribute {name!r}")
