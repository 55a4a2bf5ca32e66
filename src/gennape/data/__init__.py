"""Labelled benchmark data and graph caches."""

from .base import DataError, Record, data_root, family_of, load, names

__all__ = ["DataError", "Record", "data_root", "family_of", "load", "names"]
