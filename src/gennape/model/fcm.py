"""Fuzzy C-means clustering, as GENNAPE uses it to weight its MLP heads.

References: J. C. Bezdek, "Pattern Recognition with Fuzzy Objective Function Algorithms", Plenum 1981
(https://doi.org/10.1007/978-1-4757-0450-1); Bezdek, Ehrlich and Full, "FCM: The fuzzy c-means
clustering algorithm", Computers & Geosciences 1984 (https://doi.org/10.1016/0098-3004(84)90020-7);
the equation numbers below are GENNAPE's (Mills et al., AAAI 2023, https://arxiv.org/abs/2211.17226).

Memberships (Eq. 2):  U_ik = 1 / sum_j (d_ik^2 / d_ij^2)^(1 / (m - 1)),  d_ik = ||x_i - v_k||
Centres (Eq. 3):      v_k = sum_i U_ik^m x_i / sum_i U_ik^m
Stop (Eq. 4):         max |U(t+1) - U(t)| <= tol, or after ``max_iter`` iterations.

Eq. 2 is evaluated as a softmax of -log(d^2) / (m - 1), which is exact, cannot overflow, and gives a
point lying exactly on a centre membership 1 there (shared equally between coinciding centres).
Centres start at ``n_clusters`` distinct training points drawn with ``seed``.
"""

from __future__ import annotations

import numpy as np

from ..errors import GennapeError

_TINY = 1e-300


class FuzzyCMeans:
    r"""Fuzzy c-means (Bezdek 1981): ``n_clusters`` centres and soft memberships of points to them.

    .. math::
        U_{ik} = \Big(\sum_{j=1}^{C} (d_{ik} / d_{ij})^{2/(m-1)}\Big)^{-1}, \qquad
        v_k = \frac{\sum_i U_{ik}^m x_i}{\sum_i U_{ik}^m}, \qquad d_{ik} = \lVert x_i - v_k \rVert_2

    :meth:`fit` starts from ``n_clusters`` distinct rows of X drawn with ``seed`` and alternates the
    two updates until no membership moves by more than ``tol`` (or ``max_iter`` iterations); ``m`` > 1
    is the fuzzifier. Fitted attributes: ``centers_`` (C, d), ``memberships_`` (N, C) of the training
    points (rows sum to 1) and ``n_iter_``. Points are rows of a float array in any units (GENNAPE
    clusters graph embeddings).
    """

    def __init__(self, n_clusters: int, m: float = 2.0, tol: float = 1e-9, max_iter: int = 1000,
                 seed: int = 0):
        if n_clusters < 1:
            raise GennapeError(f"FuzzyCMeans needs n_clusters >= 1, got {n_clusters}")
        if m <= 1:
            raise GennapeError(f"the fuzzifier m must be > 1, got {m}")
        if max_iter < 1:
            raise GennapeError(f"FuzzyCMeans needs max_iter >= 1, got {max_iter}")
        self.n_clusters = n_clusters
        self.m = m
        self.tol = tol
        self.max_iter = max_iter
        self.seed = seed

    @classmethod
    def from_centers(cls, centers: np.ndarray, m: float = 2.0) -> "FuzzyCMeans":
        """A fitted model with the given (C, d) centres (e.g. loaded from a file)."""
        centers = np.asarray(centers, dtype=np.float64)
        model = cls(len(centers), m)
        model.centers_ = centers
        return model

    def fit(self, X: np.ndarray) -> "FuzzyCMeans":
        """Fit centres ``centers_`` (C, d) to the rows of X; also sets ``memberships_`` and ``n_iter_``."""
        X = _check_points(X)
        if len(X) < self.n_clusters:
            raise GennapeError(f"FuzzyCMeans with {self.n_clusters} clusters needs at least as many "
                               f"points, got {len(X)}")
        rng = np.random.default_rng(self.seed)
        self.centers_ = X[rng.choice(len(X), self.n_clusters, replace=False)]
        U = self.memberships(X)
        for iteration in range(1, self.max_iter + 1):
            W = U ** self.m
            self.centers_ = (W.T @ X) / np.maximum(W.sum(axis=0), _TINY)[:, None]
            U_next = self.memberships(X)
            converged = np.abs(U_next - U).max() <= self.tol
            U = U_next
            if converged:
                break
        self.n_iter_ = iteration
        self.memberships_ = U
        return self

    def memberships(self, X: np.ndarray) -> np.ndarray:
        """(N, C) memberships of the rows of X to the fixed centres (Eq. 2); rows sum to 1."""
        if not hasattr(self, "centers_"):
            raise GennapeError("FuzzyCMeans is not fitted: call fit(X) first")
        X = _check_points(X)
        if X.shape[1] != self.centers_.shape[1]:
            raise GennapeError(f"points have {X.shape[1]} dimensions, the centres {self.centers_.shape[1]}")
        sq_dist = np.stack([((X - v) ** 2).sum(axis=1) for v in self.centers_], axis=1)
        logits = -np.log(np.maximum(sq_dist, _TINY)) / (self.m - 1)
        logits -= logits.max(axis=1, keepdims=True)
        U = np.exp(logits)
        return U / U.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Index of the cluster with the highest membership, per row of X."""
        return self.memberships(X).argmax(axis=1)


def _check_points(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise GennapeError(f"FuzzyCMeans needs a finite 2-D array of points, got shape {X.shape}")
    return X
