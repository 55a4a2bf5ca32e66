"""The estimators shipped with gennape, and the one entry point that loads any estimator by name
or folder (timm's ``create_model`` is the model)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import GennapeError
from ..registry import Registry
from .estimator import Estimator
from .seed_ensemble import INDEX_FILE, SeedEnsemble

#: the shipped weights: the best seed's estimator, and every seed's under ``seeds/``
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
SEED_ENSEMBLE_SUBDIR = "seeds"

#: shipped estimator name -> the folder it is loaded from
SHIPPED: Registry[Path] = Registry("shipped estimator")
# NB-101-trained, the paper's choice: the seed with the best NB-101 validation-2 Spearman
SHIPPED.register("gennape", WEIGHTS_DIR)
# the mean of every trained seed: steadier zero-shot transfer, about 5 times slower
SHIPPED.register("gennape_seeds", WEIGHTS_DIR / SEED_ENSEMBLE_SUBDIR)


def load_estimator(name_or_path: str | os.PathLike = "gennape") -> Estimator | SeedEnsemble:
    """A shipped estimator by name (:data:`SHIPPED`: "gennape", "gennape_seeds"), or one saved by
    :meth:`Estimator.save` or :meth:`SeedEnsemble.save` in a folder."""
    if isinstance(name_or_path, str) and name_or_path in SHIPPED:
        folder = SHIPPED.get(name_or_path)
    else:
        folder = Path(name_or_path)
        if not folder.is_dir():
            raise GennapeError(f"{str(name_or_path)!r} is neither a shipped estimator "
                               f"({', '.join(SHIPPED.names())}) nor a folder")
    return SeedEnsemble.load(folder) if (folder / INDEX_FILE).is_file() else Estimator.load(folder)


def load_pretrained(name: str = "gennape") -> Estimator | SeedEnsemble:
    """A shipped estimator by name; :func:`load_estimator` also takes a folder."""
    if name not in SHIPPED:
        raise GennapeError(f"no shipped estimator named {name!r}; choose one of {', '.join(SHIPPED.names())}")
    return load_estimator(name)
