"""Design spaces (families): specs, networks, graphs, sampling and mutation. ``get("nb201")``."""

from .base import FAMILIES, Family, get, names, register

__all__ = ["FAMILIES", "Family", "get", "names", "register"]
