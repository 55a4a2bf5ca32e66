"""Figures of the reproduction (matplotlib, Agg backend, PNG files): zero-shot predictions against
the truth per family, and a 2-d map of graph embeddings coloured by data set (GENNAPE Fig. 5)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: no display needed
import matplotlib.pyplot as plt
import numpy as np
import scipy.stats


def pca(x: np.ndarray, dims: int = 2) -> np.ndarray:
    """Projection of the rows of ``x`` onto their ``dims`` leading principal axes."""
    centred = np.asarray(x, dtype=np.float64) - np.mean(x, axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:dims].T


MAX_POINTS = 1500  # per scatter panel: enough to see the shape, small files


def _sample(n: int) -> np.ndarray:
    """Indices of at most MAX_POINTS of n points (fixed seed)."""
    return np.arange(n) if n <= MAX_POINTS else np.random.default_rng(0).choice(n, MAX_POINTS, replace=False)


def _grid(n: int):
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes.flat


def predicted_vs_true(panels: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]], accuracy_path: Path,
                      rank_path: Path) -> None:
    """``panels``: (title, true accuracy %, predicted accuracy %, ensemble score) per family. Writes
    predicted vs true accuracy (with the identity line) and ensemble rank vs true rank (percentiles);
    the metrics in the titles use every point, the scatters at most MAX_POINTS."""
    accuracy_path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = _grid(len(panels))
    for ax, (title, true, predicted, _) in zip(axes, panels):
        shown = _sample(len(true))
        ax.scatter(true[shown], predicted[shown], s=2, alpha=0.3, rasterized=True)
        lo, hi = min(true.min(), predicted.min()), max(true.max(), predicted.max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set(title=f"{title}\nMAE {np.abs(true - predicted).mean():.2f} pp", xlabel="true accuracy (%)",
               ylabel="CL+FCM+T zero-shot (%)")
    fig.tight_layout()
    fig.savefig(accuracy_path, dpi=90)
    plt.close(fig)

    fig, axes = _grid(len(panels))
    for ax, (title, true, _, score) in zip(axes, panels):
        true_rank = scipy.stats.rankdata(true) / len(true)
        score_rank = scipy.stats.rankdata(score) / len(score)
        rho = scipy.stats.spearmanr(true, score).statistic
        shown = _sample(len(true))
        ax.scatter(true_rank[shown], score_rank[shown], s=2, alpha=0.3, rasterized=True)
        ax.set(title=f"{title}\nSRCC {rho:.3f}", xlabel="true rank (percentile)",
               ylabel="GENNAPE zero-shot rank", xlim=(0, 1), ylim=(0, 1))
    fig.tight_layout()
    fig.savefig(rank_path, dpi=90)
    plt.close(fig)


def embedding_map(groups: dict[str, np.ndarray], path: Path) -> None:
    """Scatter of the first two principal components (fitted on all groups together) of each
    group's (n, dim) embeddings, one colour per group (distinct for up to 10 groups)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(groups)
    points = pca(np.concatenate([groups[n] for n in names]))
    fig, ax = plt.subplots(figsize=(7.5, 6))
    start = 0
    cmap = plt.get_cmap("tab10")
    for i, name in enumerate(names):
        part = points[start:start + len(groups[name])]
        start += len(groups[name])
        ax.scatter(part[:, 0], part[:, 1], s=5, alpha=0.6, color=cmap(i % 10), label=name)
    ax.set(xlabel="PC 1", ylabel="PC 2", title="Encoder embeddings by family (PCA)")
    ax.legend(fontsize=7, markerscale=2, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
