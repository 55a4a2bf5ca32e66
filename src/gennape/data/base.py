"""Labelled records, the data root, and the registry of labelled-data loaders (:data:`DATA_SETS`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import DataError  # re-exported
from ..registry import Registry


@dataclass(frozen=True)
class Record:
    """One labelled architecture: its family spec, accuracy in percent, and whatever else the
    source file carries in ``extra`` (``params`` and ``flops`` where present, zero-cost proxies,
    resolution, task, other datasets' accuracies, ...). ``flops`` in ``extra`` are as the source
    reports them; the unit is named in ``extra['flops_unit']`` when not multiply-adds."""
    spec: Any
    accuracy: float
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The labelled-data folder: ``root`` if given, else ``$GENNAPE_DATA``, else ``shared/data``
    beside the first ancestor of the current directory (or of this package) that has one."""
    if root is not None:
        return Path(root)
    env = os.environ.get("GENNAPE_DATA")
    if env:
        return Path(env)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for d in (start, *start.parents):
            cand = d / "shared" / "data"
            if (cand / "raw").is_dir():
                return cand
    return Path.cwd() / ".." / "shared" / "data"


def require_file(root: Path, relative: str, source: str) -> Path:
    """``root/relative``, or a :class:`DataError` naming the file and its public source."""
    path = root / relative
    if not path.is_file():
        raise DataError(f"missing data file {path} (from {source}); set GENNAPE_DATA to the folder "
                        "that holds raw/<family>/")
    return path


def _import_loaders() -> None:
    from . import loaders  # noqa: F401  (imports every labels_* module, which registers its loaders)


#: data set name -> (loader, family name or factory of the family its specs belong to); the first
#: lookup imports every loader module
DATA_SETS: Registry[tuple[Callable[[Path], list[Record]], Any]] = Registry(
    "data set", populate=_import_loaders, error=DataError, sorted_names=True)


def register_loader(name: str, family: str | Callable[[], Any]):
    """Decorator: register ``fn(root: Path) -> list[Record]`` as the loader of data set ``name``,
    whose specs belong to ``family`` (a registered family name, or a function returning the family
    instance when the data set needs a variant, e.g. another number of classes)."""
    def deco(fn):
        DATA_SETS.register(name, (fn, family))
        return fn
    return deco


def load(name: str, root: str | os.PathLike | None = None) -> list[Record]:
    """Labelled records of data set ``name`` (see :func:`names`), read from the data root."""
    return DATA_SETS.get(name)[0](data_root(root))


def family_of(name: str):
    """The family (a :class:`gennape.families.Family`) whose network each record of ``name`` describes."""
    family = DATA_SETS.get(name)[1]
    if callable(family):
        return family()
    from .. import families
    return families.get(family)


def names() -> list[str]:
    """Every registered data set name, sorted."""
    return DATA_SETS.names()
