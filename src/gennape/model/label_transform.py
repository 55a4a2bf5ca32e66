"""GENNAPE's FLOPs-aware label transform (Eq. 5 of GENNAPE: Mills et al., "Towards Generalized Neural
Architecture Performance Estimators", AAAI 2023, https://arxiv.org/abs/2211.17226).

    y = (A / (log10(F + 1) + 1) - mu) / s        A = accuracy, F = GFLOPs (MACs / 1e9)
    A = (y s + mu) (log10(F + 1) + 1)            (inverse)

mu and s are the mean and population standard deviation of A / (log10(F + 1) + 1) over the
training family, and are reused unchanged for every other family. The transform is linear in A, so
``inverse`` returns accuracy in whatever unit ``fit`` saw (percent throughout gennape).
"""

from __future__ import annotations

import numpy as np

from ..errors import GennapeError


def _flops_divisor(flops: np.ndarray) -> np.ndarray:
    flops = np.asarray(flops, dtype=np.float64)
    if not np.isfinite(flops).all() or (flops < 0).any():
        raise GennapeError("FLOPs (multiply-adds) must be finite and non-negative")
    return np.log10(flops / 1e9 + 1.0) + 1.0


class FlopsAwareTransform:
    r"""Accuracy (percent) and FLOPs (multiply-adds, MACs) -> standardised regression label, and back.

    .. math::
        y = \frac{A / (\log_{10}(F + 1) + 1) - \mu}{s}, \qquad F = \text{MACs} / 10^9

    :meth:`fit` sets ``mean_`` (:math:`\mu`) and ``std_`` (:math:`s`, the population standard
    deviation) of :math:`A / (\log_{10}(F + 1) + 1)` over one training family; :meth:`transform` and
    :meth:`inverse` apply them unchanged to any family. FLOPs must be finite and non-negative.
    """

    def fit(self, acc_percent: np.ndarray, flops: np.ndarray) -> "FlopsAwareTransform":
        """Set ``mean_`` and ``std_`` from accuracies (percent) and FLOPs (MACs) of the training family."""
        scaled = _check(acc_percent, flops) / _flops_divisor(flops)
        std = float(scaled.std())
        if not std > 0:
            raise GennapeError(f"cannot fit the label transform: {len(scaled)} labels with zero spread")
        self.mean_ = float(scaled.mean())
        self.std_ = std
        return self

    def transform(self, acc_percent: np.ndarray, flops: np.ndarray) -> np.ndarray:
        """Accuracies (percent) -> standardised labels."""
        self._check_fitted()
        return (_check(acc_percent, flops) / _flops_divisor(flops) - self.mean_) / self.std_

    def inverse(self, pred: np.ndarray, flops: np.ndarray) -> np.ndarray:
        """Standardised predictions -> accuracies (percent)."""
        self._check_fitted()
        return (_check(pred, flops) * self.std_ + self.mean_) * _flops_divisor(flops)

    def to_dict(self) -> dict:
        self._check_fitted()
        return {"mean": self.mean_, "std": self.std_}

    @classmethod
    def from_dict(cls, d: dict) -> "FlopsAwareTransform":
        t = cls()
        try:
            t.mean_, t.std_ = float(d["mean"]), float(d["std"])
        except (KeyError, TypeError, ValueError) as e:
            raise GennapeError(f"malformed label-transform description {d!r}: {e!r}") from None
        return t

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise GennapeError("FlopsAwareTransform is not fitted: call fit(acc_percent, flops) first")


def _check(values: np.ndarray, flops: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.shape != np.shape(flops):
        raise GennapeError(f"{values.shape} values but FLOPs of shape {np.shape(flops)}")
    return values
