"""gennape: predict how well a neural network will perform before anyone trains it.

``import gennape`` stays light: torch loads when a converter or an estimator is first used."""

import importlib
import warnings

__version__ = "0.1.0"

__all__ = ["ComputeGraph", "__version__", "data", "families", "from_onnx", "from_torch", "load_estimator",
           "load_pretrained"]

#: public name -> (module, attribute; None: the module itself)
_PUBLIC = {"ComputeGraph": ("gennape.graph", "ComputeGraph"), "from_torch": ("gennape.graph", "from_torch"),
           "from_onnx": ("gennape.graph", "from_onnx"), "families": ("gennape.families", None),
           "data": ("gennape.data", None), "load_estimator": ("gennape.estimator.shipped", "load_estimator"),
           "load_pretrained": ("gennape.estimator.shipped", "load_pretrained")}
#: names that moved, still served with a DeprecationWarning
_MOVED = {"SEED_ENSEMBLE_SUBDIR": ("gennape.estimator.shipped", "SEED_ENSEMBLE_SUBDIR")}


def __getattr__(name):
    if name == "PRETRAINED":
        warnings.warn("gennape.PRETRAINED moved: use gennape.estimator.SHIPPED.names()", DeprecationWarning,
                      stacklevel=2)
        return tuple(importlib.import_module("gennape.estimator.shipped").SHIPPED.names())
    if name in _MOVED:
        warnings.warn(f"gennape.{name} moved to {_MOVED[name][0]}", DeprecationWarning, stacklevel=2)
    elif name not in _PUBLIC:
        raise AttributeError(f"module 'gennape' has no attribute {name!r}")
    module, attribute = _PUBLIC.get(name) or _MOVED[name]
    value = importlib.import_module(module)
    return value if attribute is None else getattr(value, attribute)
