"""Where gennape keeps its caches, and how it writes them: atomically, pickle-free."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import platformdirs


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir`` if given, else ``$GENNAPE_CACHE``, else the user cache directory of gennape."""
    if cache_dir is not None:
        return Path(cache_dir)
    return Path(os.environ.get("GENNAPE_CACHE") or platformdirs.user_cache_dir("gennape"))


def save_npz_atomically(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write a compressed npz through a temporary file, so readers never see half a file and a
    failure leaves nothing behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
