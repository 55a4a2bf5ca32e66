"""Imports every module of this package that registers a labelled-data loader (``labels_*.py``)."""

import importlib
import pkgutil

from . import __path__ as _path

for _m in pkgutil.iter_modules(_path):
    if _m.name.startswith("labels_"):
        importlib.import_module(f"{__package__}.{_m.name}")
