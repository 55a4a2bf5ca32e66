"""Deprecated: training moved to :mod:`gennape.training` (this module re-exports it)."""

import warnings

from .training import *  # noqa: F401,F403
from .training import __all__
from .training.loop import fit as _fit  # noqa: F401
from .training.nb101 import nb101_cells as load_nb101  # noqa: F401

warnings.warn("gennape.train moved to gennape.training", DeprecationWarning, stacklevel=2)
