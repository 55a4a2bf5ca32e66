"""The estimator: members and their registry (:mod:`.members`), the scoring rules
(:mod:`.scoring`), :class:`Estimator` (predict, combine, save, load), the seed ensemble, and the
shipped estimators with :func:`load_estimator`. Training lives in :mod:`gennape.training`."""

from ..model import head_inputs, log10_gflops
from .estimator import COMMON_SCALES, FORMAT_VERSION, Estimator
from .members import (
    CALIBRATED_MEMBER,
    ENSEMBLE,
    MEMBER_KINDS,
    FlopsMember,
    GNNMember,
    Member,
    PairwiseMember,
    RegressionMember,
    SharedInputs,
    member_from_spec,
)
from .scoring import MAX_CHUNK_NODES, chunks, normalised_ranks
from .seed_ensemble import SeedEnsemble
from .shipped import SEED_ENSEMBLE_SUBDIR, SHIPPED, WEIGHTS_DIR, load_estimator, load_pretrained

__all__ = ["CALIBRATED_MEMBER", "COMMON_SCALES", "ENSEMBLE", "FORMAT_VERSION", "MAX_CHUNK_NODES", "MEMBER_KINDS",
           "SEED_ENSEMBLE_SUBDIR", "SHIPPED", "WEIGHTS_DIR", "Estimator", "FlopsMember", "GNNMember", "Member",
           "PairwiseMember", "RegressionMember", "SeedEnsemble", "SharedInputs", "chunks", "head_inputs",
           "load_estimator", "load_pretrained", "log10_gflops", "member_from_spec", "normalised_ranks"]
