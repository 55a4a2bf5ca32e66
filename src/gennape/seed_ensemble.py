"""Deprecated: the seed ensemble moved to :mod:`gennape.estimator.seed_ensemble` (this module re-exports it)."""

import warnings

from .estimator.seed_ensemble import FORMAT_VERSION, INDEX_FILE, SeedEnsemble  # noqa: F401

warnings.warn("gennape.seed_ensemble moved to gennape.estimator", DeprecationWarning, stacklevel=2)
