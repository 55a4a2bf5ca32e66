"""Where gennape keeps its caches, and how it writes files: atomically (a killed run never leaves
half a file), pickle-free."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import platformdirs


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir`` if given, else ``$GENNAPE_CACHE``, else the user cache directory of gennape."""
    if cache_dir is not None:
        return Path(cache_dir)
    return Path(os.environ.get("GENNAPE_CACHE") or platformdirs.user_cache_dir("gennape"))


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """An open temporary file beside ``path`` that replaces ``path`` when the block ends without an
    error, so readers never see half a file; on an error it is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix + ".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results and caches are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_npz_atomically(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write a compressed npz atomically (:func:`atomic_file`)."""
    with atomic_file(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically (:func:`atomic_file`)."""
    with atomic_file(path) as f:
        f.write(text)


def write_json_atomically(path: str | os.PathLike, data) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text_atomically(path, json.dumps(data, indent=1))
