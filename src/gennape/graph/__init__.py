"""Computation graphs: the data model, its builders and converters, and cost counts."""

from .compute_graph import ComputeGraph, GraphBuilder, Tensor, hwc, load_graphs, save_graphs
from .ops import OPS, VOCAB_VERSION

__all__ = ["ComputeGraph", "GraphBuilder", "Tensor", "hwc", "load_graphs", "save_graphs", "OPS",
           "VOCAB_VERSION", "from_torch", "from_onnx"]


def __getattr__(name):
    # The converters import torch / onnx; load them only when asked for.
    if name == "from_torch":
        from .from_torch import from_torch
        return from_torch
    if name == "from_onnx":
        from .from_onnx import from_onnx
        return from_onnx
    raise AttributeError(name)
