"""Deprecated: the metrics moved to :mod:`gennape.evaluation.metrics` (this module re-exports them)."""

import warnings

from .evaluation.metrics import *  # noqa: F401,F403
from .evaluation.metrics import RELEVANCE_SCALE  # noqa: F401

warnings.warn("gennape.metrics moved to gennape.evaluation.metrics", DeprecationWarning, stacklevel=2)
