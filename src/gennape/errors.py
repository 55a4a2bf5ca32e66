"""Exceptions raised by gennape. Each names what was wrong with the input."""

from __future__ import annotations


class GennapeError(Exception):
    """Base class of every error gennape raises on bad input."""


class GraphError(GennapeError):
    """A computation graph is malformed (cycle, dangling node, inconsistent shapes, negative costs,
    a damaged graph file), or one graph was passed where a list of graphs is needed."""


class ConversionError(GennapeError):
    """A model could not be turned into a computation graph."""


class UnsupportedOpError(ConversionError):
    """An op is outside the vocabulary and strict mode is on."""

    def __init__(self, op: str, where: str = ""):
        self.op = op
        super().__init__(f"unsupported op {op!r}{' in ' + where if where else ''}; "
                         "pass strict=False to map it to the out-of-vocabulary entry")


class SpecError(GennapeError):
    """An architecture spec is malformed or outside its family's space."""


class DataError(GennapeError):
    """A labelled data file is missing or malformed."""


class LabelError(GennapeError):
    """Measured accuracies given for fine-tuning are unusable: not finite, not percentages in
    [0, 100], fractions, all equal, not one per graph, or one network listed twice."""


class EstimatorError(GennapeError):
    """An estimator folder is missing, damaged (truncated or mis-shaped tensors) or from another version."""
