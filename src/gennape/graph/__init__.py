"""Computation graphs: the data model, its builders and converters, and cost counts."""

from .compute_graph import ComputeGraph, GraphBuilder, Tensor, hwc
from .graph_files import load_graphs, save_graphs
from .ops import OPS, VOCAB_VERSION

__all__ = ["ComputeGraph", "GraphBuilder", "Tensor", "hwc", "load_graphs", "save_graphs", "OPS",
           "VOCAB_VERSION", "from_torch", "from_onnx"]


def __getattr__(name):
    # The converters import torch / onnx: load them only when first asked for.
    if name == "from_torch":
        from .torch_converter import from_torch as fn
    elif name == "from_onnx":
        from .onnx_converter import from_onnx as fn
    else:
        raise AttributeError(f"module 'gennape.graph' has no attribute {name!r}")
    globals()[name] = fn
    return fn
