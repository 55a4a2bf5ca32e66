"""One registry style for every kind of named thing gennape offers (families, data sets, member
kinds, training presets, evaluation sets, shipped estimators): ``register`` adds, ``get`` finds
with an error that lists the known names, ``names`` lists them (timm's model registry is the model)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .errors import GennapeError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one ``kind`` (a word for error messages, e.g. "family"). ``populate``: called
    once before the first lookup, to import the modules whose entries register themselves. ``error``:
    the :class:`GennapeError` subclass raised for an unknown name. ``sorted_names``: list names
    alphabetically instead of in registration order."""

    def __init__(self, kind: str, populate: Callable[[], None] | None = None,
                 error: type[GennapeError] = GennapeError, sorted_names: bool = False):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._populate = populate
        self._error = error
        self._sorted = sorted_names

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` as ``name`` (a later registration of the same name replaces it); returns it."""
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        """The entry registered as ``name``; an error naming the known ones otherwise."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            raise self._error(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        """Every registered name, in registration order (alphabetical with ``sorted_names``)."""
        self._load()
        return sorted(self._entries) if self._sorted else list(self._entries)

    def values(self) -> list[T]:
        """Every entry, in registration order."""
        self._load()
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def _load(self) -> None:
        if self._populate is not None:
            populate, self._populate = self._populate, None
            populate()
