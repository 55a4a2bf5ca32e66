"""Deprecated: the evaluation protocol moved to :mod:`gennape.evaluation` (this module re-exports it)."""

import warnings

from .evaluation.protocol import *  # noqa: F401,F403
from .evaluation.protocol import CHEAP_BASELINES, ENSEMBLE_METHOD, ENSEMBLES  # noqa: F401

warnings.warn("gennape.evaluate moved to gennape.evaluation", DeprecationWarning, stacklevel=2)
