"""The family contract and registry.

A family is a design space: an immutable, hashable, canonical spec type with a string form, a
PyTorch network builder, a fast graph builder that gives the same :class:`ComputeGraph` as converting
that network, uniform sampling and one-step mutation.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Any, Iterator

from ..errors import SpecError
from ..graph import ComputeGraph

_FAMILIES: dict[str, "Family"] = {}


class Family(ABC):
    #: registry name, e.g. ``"nb201"``
    name: str = ""
    #: number of distinct networks in the space, where known
    space_size: int | None = None

    @abstractmethod
    def parse(self, text: str) -> Any:
        """Spec from its canonical string; :class:`SpecError` naming the problem when malformed."""

    @abstractmethod
    def format(self, spec: Any) -> str:
        """Canonical string of ``spec``: ``parse(format(s)) == s``."""

    @abstractmethod
    def build(self, spec: Any):
        """A trainable ``torch.nn.Module`` for ``spec``."""

    @abstractmethod
    def to_graph(self, spec: Any) -> ComputeGraph:
        """The spec's computation graph, equal to ``from_torch(build(spec), input_shape(spec))``."""

    @abstractmethod
    def sample(self, rng: random.Random) -> Any:
        """A spec drawn uniformly from the valid space."""

    @abstractmethod
    def mutate(self, spec: Any, rng: random.Random) -> Any:
        """One natural edit of ``spec``: always valid and never equal to ``spec``."""

    @abstractmethod
    def input_shape(self, spec: Any) -> tuple[int, int, int]:
        """(C, H, W) of the input the network expects."""

    def enumerate(self) -> Iterator[Any]:
        """Every spec in the space, where it is small enough to list."""
        raise NotImplementedError(f"family {self.name!r} is too large to enumerate")

    def __repr__(self) -> str:
        return f"<family {self.name}>"


def register(family: Family) -> Family:
    _FAMILIES[family.name] = family
    return family


def _load_all() -> None:
    from . import catalogue  # noqa: F401  (imports every family module, which registers itself)


def get(name: str) -> Family:
    """The family registered as ``name``."""
    _load_all()
    try:
        return _FAMILIES[name]
    except KeyError:
        raise SpecError(f"unknown family {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    _load_all()
    return sorted(_FAMILIES)
