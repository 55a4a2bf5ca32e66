"""Labelled benchmark data and graph caches."""

from .base import DATA_SETS, DataError, Record, data_root, family_of, load, names

__all__ = ["DATA_SETS", "DataError", "Record", "data_root", "family_of", "load", "names"]
