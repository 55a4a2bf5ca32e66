"""The family contract (:class:`Family`: a design space with specs, networks, graphs, sampling and
mutation) and the registry of families (:data:`FAMILIES`)."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Any, Iterator

from ..errors import SpecError
from ..graph import ComputeGraph
from ..registry import Registry


class Family(ABC):
    """A design space of networks: the contract every family implements.

    A *spec* names one network of the space. It is immutable and hashable, and has a canonical
    string form: ``parse(format(spec)) == spec``. For every spec, a family gives

    * :meth:`build`: a trainable ``torch.nn.Module`` taking a (B, C, H, W) batch, with
      (C, H, W) = :meth:`input_shape`;
    * :meth:`to_graph`: the network's :class:`ComputeGraph`, built from the spec without creating any
      weights, and equal (isomorphic with equal node features, hence equal FLOPs in multiply-adds and
      equal parameter counts) to ``from_torch(build(spec), input_shape(spec))``;
    * :meth:`sample`: a random valid spec (uniform over the space unless the family documents its
      own sampler), and :meth:`mutate`: one natural edit, always valid and never the same spec;
    * :meth:`enumerate`, where the space is small enough to list.

    A family module registers an instance of each of its families under its :attr:`name` with
    :func:`register`; :func:`get` finds it by name.
    """
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
        """A random valid spec: uniform over the space unless the family documents its own sampler."""

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


def _load_all() -> None:
    from . import catalogue  # noqa: F401  (imports every family module, which registers itself)


#: every family by name: each family module registers its instance when imported, and the first
#: lookup imports them all
FAMILIES: Registry[Family] = Registry("family", populate=_load_all, error=SpecError, sorted_names=True)


def register(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES` under its ``name`` (each family module calls this); returns it."""
    return FAMILIES.register(family.name, family)


def get(name: str) -> Family:
    """The family registered as ``name``; a :class:`SpecError` listing the known names otherwise."""
    return FAMILIES.get(name)


def names() -> list[str]:
    """Every registered family name, sorted."""
    return FAMILIES.names()
