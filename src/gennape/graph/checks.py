"""Checks of what users hand to :mod:`gennape.graph`, each naming what is wrong and how to fix it:
a model input shape (shared by :func:`~gennape.graph.from_torch`, :func:`~gennape.graph.from_onnx` and
the command line's ``--input-shape``) and a graph's costs (:func:`~gennape.graph.load_graphs` and
the estimator check them)."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConversionError

if TYPE_CHECKING:
    from .compute_graph import ComputeGraph

#: the most elements (C x H x W, batch excluded) an input may have: 3 x 10,000 x 10,000 (a 100-megapixel
#: RGB image). Larger inputs are typos (99999,99999,99999), not networks anyone trains.
MAX_INPUT_ELEMENTS = 3 * 10_000 * 10_000


def check_input_shape(shape: Any, ranks: tuple[int, ...] | None = (1, 2, 3)) -> tuple[int, ...]:
    """``shape`` as a tuple of ints: the model input without the batch, (C, H, W), (N, D) or (D,).

    Raises :class:`ConversionError` unless it is a tuple or list of ints (a ``torch.Size`` is one)
    with one of ``ranks`` dimensions (None: any number; 4 outside ``ranks`` is taken for a shape with
    the batch), every size at least 1 and at most :data:`MAX_INPUT_ELEMENTS` elements in all.
    """
    if (not isinstance(shape, (tuple, list))
            or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape)):
        raise ConversionError(f"input_shape must be a tuple of ints (C, H, W) without the batch, got {shape!r}")
    shape = tuple(int(s) for s in shape)
    if ranks is not None and len(shape) == 4 and 4 not in ranks:
        raise ConversionError(f"input_shape {shape} has 4 dimensions; pass (C, H, W) without the batch dimension")
    if ranks is not None and len(shape) not in ranks:
        raise ConversionError(f"input_shape {shape} must be (C, H, W), (N, D) or (D,)")
    bad = [s for s in shape if s <= 0]
    if bad:
        raise ConversionError(f"input_shape {shape} has a non-positive dimension ({bad[0]}); every size must be "
                              "at least 1")
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise ConversionError(f"input_shape {shape} has {math.prod(shape):,} elements, more than the "
                              f"{MAX_INPUT_ELEMENTS:,} (3 x 10,000 x 10,000) gennape accepts; sizes are (C, H, W) "
                              "without the batch")
    return shape


def negative_costs(graph: ComputeGraph) -> str | None:
    """What is wrong when ``graph`` has a node with negative MACs or parameters (costs are counts),
    naming the graph and its first such node; None when every cost is at least 0."""
    for key, what in (("macs", "MACs"), ("param_counts", "parameters")):
        bad = np.flatnonzero(getattr(graph, key) < 0)
        if len(bad):
            i = int(bad[0])
            more = f" and {len(bad) - 1} more nodes" if len(bad) > 1 else ""
            return (f"graph {graph.name!r} has negative {what} ({getattr(graph, key)[i]}) at node {i} "
                    f"({graph.ops[i]}){more}; costs are counts (at least 0): make graphs with GraphBuilder, "
                    "from_torch or from_onnx, not by editing their arrays")
    return None
