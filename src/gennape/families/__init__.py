"""Design spaces (families): specs, networks, graphs, sampling and mutation. ``get("nb201")``."""

from .base import Family, get, names, register

__all__ = ["Family", "get", "names", "register"]
