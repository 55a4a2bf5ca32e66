"""Imports every family module of this package, so that each registers itself."""

import importlib
import pkgutil

from . import __path__ as _path

for _m in pkgutil.iter_modules(_path):
    if _m.name not in {"base", "catalogue"} and not _m.name.startswith("_"):
        importlib.import_module(f"{__package__}.{_m.name}")
