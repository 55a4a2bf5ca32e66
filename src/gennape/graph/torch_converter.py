"""Convert a PyTorch ``nn.Module`` into a :class:`ComputeGraph`.

The module is captured with ``torch.fx.symbolic_trace`` (``torch.nn`` layers and
:class:`~gennape.graph.modules.Zero` stay whole) and executed node by node on fake tensors, which
carry shapes but no data, so no real forward pass ever runs. Models that fx cannot trace (Python
control flow on traced values) fall back to ``torch.export``, whose ATen graph already carries fake
shapes; ATen ops are named like their ``torch.nn.functional`` counterparts, so one table maps both
captures onto the op vocabulary, through the same :class:`GraphBuilder` methods the families use.

Conventions (shared by every route, see :mod:`.compute_graph`): ops that move no data (dropout,
reshapes, slicing, casts) get no node; element-wise ops with a scalar or constant operand get no node
unless the operand is a trainable parameter, which the node then carries; global average pooling is
``mean``; ``x * sigmoid(x)`` is one ``swish`` node; matrix products are ``matmul`` nodes and
``scaled_dot_product_attention`` is matmul -> softmax -> matmul.

The module stays one file, over 400 lines, because both captures (fx and ``torch.export``) share the
converter and its two op tables (``MODULES``, ``FUNCTIONS``), which only make sense together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import fx, nn
from torch._subclasses.fake_tensor import FakeTensorMode

from ..errors import ConversionError, GennapeError, UnsupportedOpError
from . import cost
from .compute_graph import ComputeGraph, GraphBuilder, Tensor, conv_op_name, pair
from .checks import check_input_shape
from .modules import Zero
from .ops import op_index

#: Batch size of the fake input. Not 1: BatchNorm in training mode rejects one value per channel.
#: Shapes in the graph never include it.
_BATCH = 2


@dataclass(frozen=True)
class Constant:
    """A tensor that does not depend on the input (parameter, buffer, literal). ``params`` is the
    number of trainable elements it carries into the node that consumes it."""
    shape: tuple[int, ...]
    params: int = 0


def from_torch(module: nn.Module, input_shape: Sequence[int], *, strict: bool = False,
               name: str | None = None) -> ComputeGraph:
    """The computation graph of ``module`` applied to one input of ``input_shape`` = (C, H, W)
    without the batch (token models: (N, D); vector models: (D,)).

    Ops outside the vocabulary become ``oov`` nodes named after the module class or function;
    with ``strict=True`` they raise :class:`UnsupportedOpError` instead. Raises
    :class:`ConversionError` for a non-module, a malformed ``input_shape`` (see
    :func:`~gennape.graph.checks.check_input_shape`: positive sizes, at most
    :data:`~gennape.graph.checks.MAX_INPUT_ELEMENTS` elements), a shape the model rejects, or a
    model neither torch.fx nor torch.export can capture.
    """
    if not isinstance(module, nn.Module):
        raise ConversionError(f"from_torch expects a torch.nn.Module, got {type(module).__name__}")
    shape = check_input_shape(input_shape)
    builder = GraphBuilder(name or type(module).__name__)
    try:
        graph = _Tracer().trace(module)
    except Exception as fx_error:  # fx raises TraceError, TypeError, ... on untraceable Python
        _convert_exported(module, shape, _Converter(builder, strict), fx_error)
    else:
        _convert_traced(module, graph, shape, _Converter(builder, strict))
    return builder.build()


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, Zero) or super().is_leaf_module(m, qualname)


# ---------------------------------------------------------------------------- captures
def _convert_traced(module: nn.Module, graph: fx.Graph, shape: tuple[int, ...], conv: "_Converter") -> None:
    """Run the fx graph on fake tensors, emitting graph nodes as each fx node executes."""
    modules = conv.modules = dict(module.named_modules())
    fake: dict[fx.Node, Any] = {}
    conv.plan_fusions(graph)
    with FakeTensorMode(allow_non_fake_inputs=True):  # parameters become fake when first used
        for node in graph.nodes:
            if node.op == "placeholder":
                if not fake:  # the first argument is the model input
                    fake[node] = torch.empty((_BATCH,) + shape)
                    conv.values[node] = conv.builder.input(shape)
                elif node.args:  # an optional argument left at its default
                    fake[node] = conv.values[node] = node.args[0]
                else:
                    raise ConversionError(f"{type(module).__name__}.forward takes several inputs; from_torch "
                                          "converts single-input models")
                continue
            if node.op == "output":
                conv.output(node.args[0])
                continue
            args, kwargs = fx.node.map_arg((node.args, node.kwargs), fake.__getitem__)
            if node.op == "get_attr":
                fake[node] = _fetch_attr(module, node.target)
            else:
                fake[node] = _execute(node, modules, args, kwargs)
            conv.visit(node, fake[node], modules.get(node.target) if node.op == "call_module" else None)


def _execute(node: fx.Node, modules: dict[str, nn.Module], args, kwargs):
    try:
        if node.op == "call_module":
            module = modules[node.target]
            if isinstance(module, _NORMS):
                return _norm_output(module, args[0])
            return module(*args, **kwargs)
        if node.op == "call_method":
            return getattr(args[0], node.target)(*args[1:], **kwargs)
        return node.target(*args, **kwargs)
    except GennapeError:
        raise
    except Exception as e:
        shapes = [tuple(a.shape[1:]) for a in _flatten(args) if isinstance(a, torch.Tensor)]
        raise ConversionError(f"{_where(node, modules)} rejected input shape(s) {shapes} "
                              f"(batch removed): {type(e).__name__}: {_first_line(e)}") from e


_NORMS = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)


def _norm_output(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A norm layer's output has its input's shape. Fake-executing BatchNorm costs ~10 ms (it
    decomposes), half of a ResNet-50 conversion, so check the input as the layer would and pass it on."""
    if isinstance(module, nn.LayerNorm):
        if tuple(x.shape[-len(module.normalized_shape):]) != tuple(module.normalized_shape):
            raise ValueError(f"expected trailing dimensions {tuple(module.normalized_shape)}")
        return x
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        module._check_input_dim(x)
    expected = module.num_features if hasattr(module, "num_features") else module.num_channels
    if x.dim() < 2 or x.shape[1] != expected:
        raise ValueError(f"expected {expected} channels")
    return x


def _fetch_attr(module: nn.Module, target: str):
    obj = module
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _convert_exported(module: nn.Module, shape: tuple[int, ...], conv: "_Converter",
                      fx_error: Exception) -> None:
    """Fallback for models fx cannot trace: torch.export traces with fake tensors (no real
    forward) and specialises Python control flow to ``shape``."""
    try:
        ep = torch.export.export(module, (torch.zeros((_BATCH,) + shape),), strict=False)
    except Exception as export_error:
        raise ConversionError(
            f"could not capture {type(module).__name__}: torch.fx failed ({type(fx_error).__name__}: "
            f"{_first_line(fx_error)}) and torch.export failed ({type(export_error).__name__}: "
            f"{_first_line(export_error)})") from None
    specs = {s.arg.name: s for s in ep.graph_signature.input_specs}
    user_outputs = {s.arg.name for s in ep.graph_signature.output_specs
                    if s.kind == torch.export.graph_signature.OutputKind.USER_OUTPUT}
    conv.plan_fusions(ep.graph)
    for node in ep.graph.nodes:
        val = node.meta.get("val")
        if node.op == "placeholder":
            spec = specs[node.name]
            if spec.kind == torch.export.graph_signature.InputKind.USER_INPUT:
                conv.values[node] = conv.builder.input(shape)
            else:
                trainable = spec.kind == torch.export.graph_signature.InputKind.PARAMETER
                conv.values[node] = Constant(tuple(val.shape), val.numel() if trainable else 0)
        elif node.op == "output":
            conv.output([a for a in node.args[0] if isinstance(a, fx.Node) and a.name in user_outputs])
        else:
            conv.visit(node, val, None)


# ---------------------------------------------------------------------------- mapping
class _Converter:
    """Maps executed fx nodes (with their fake outputs) onto graph nodes of a :class:`GraphBuilder`.

    ``values`` holds, per fx node, a :class:`Tensor` (computed from the input; its ``node`` is the
    graph node that produced its data, so dropped ops wire their consumers to their producers), a
    :class:`Constant`, or a plain Python value (sizes, tuples of the above).
    """

    def __init__(self, builder: GraphBuilder, strict: bool):
        self.builder, self.strict = builder, strict
        self.modules: dict[str, nn.Module] = {}  # of the fx capture, by path
        self.current: fx.Node | None = None  # the fx node being mapped, for error messages
        self.values: dict[fx.Node, Any] = {}
        self.swish_input: dict[fx.Node, fx.Node] = {}  # mul node -> x of x * sigmoid(x)
        self.fused_sigmoids: set[fx.Node] = set()

    def plan_fusions(self, graph: fx.Graph) -> None:
        """Find ``x * sigmoid(x)`` pairs (sigmoid used only there) to emit as one ``swish`` node."""
        def is_sigmoid(n):
            if n.op == "call_module":
                return isinstance(self.modules.get(n.target), nn.Sigmoid)
            return n.op in ("call_function", "call_method") and _op_name(n) == "sigmoid"

        for n in graph.nodes:
            if n.op in ("call_function", "call_method") and _op_name(n) == "mul" and len(n.args) == 2:
                for x, s in (n.args, n.args[::-1]):
                    if (isinstance(s, fx.Node) and is_sigmoid(s) and s.args[0] is x and len(s.users) == 1):
                        self.swish_input[n] = x
                        self.fused_sigmoids.add(s)
                        break

    def visit(self, node: fx.Node, out: Any, module: nn.Module | None) -> None:
        self.current = node
        if node.op == "get_attr":
            self.values[node] = (Constant(tuple(out.shape), out.numel() if isinstance(out, nn.Parameter) else 0)
                                 if isinstance(out, torch.Tensor) else out)
            return
        if not _has_tensor(out):
            self.values[node] = out
            return
        args, kwargs = fx.node.map_arg((node.args, node.kwargs), self.values.__getitem__)
        tensors = [a for a in _flatten((args, kwargs)) if isinstance(a, Tensor)]
        if node in self.fused_sigmoids:
            value = tensors[0]  # consumed only by its swish
        elif node in self.swish_input:
            x = self.values[self.swish_input[node]]
            value = self.node("swish", [x], _strip(out))
        elif not tensors:
            value = _constant(args, kwargs, out)
        elif module is not None:
            value = self._module(module, tensors, out)
        else:
            name = _op_name(node)
            handler = FUNCTIONS.get(name)
            value = (handler(self, args, kwargs, out) if handler is not None else
                     self.node(name, tensors, _strip(_first_tensor(out)), params=_constant_params(args, kwargs)))
        self.values[node] = value

    def _module(self, module: nn.Module, inputs: list[Tensor], out):
        for cls in type(module).__mro__:
            if cls in MODULES:
                return MODULES[cls](self, module, inputs[0], out)
        params = sum(p.numel() for p in module.parameters())
        return self.node(type(module).__name__, inputs, _strip(_first_tensor(out)), params=params)

    def node(self, op: str, inputs: Sequence[Tensor], out_shape: Sequence[int], **features) -> Tensor:
        """Add a graph node (see :meth:`GraphBuilder.add_node`); in strict mode an op outside the
        vocabulary raises :class:`UnsupportedOpError`."""
        if self.strict and op_index(op) == 0:
            raise UnsupportedOpError(op, _where(self.current, self.modules))
        return self.builder.add_node(op, inputs, out_shape, **features)

    def output(self, result: Any) -> None:
        for node in _flatten(result):
            if isinstance(node, fx.Node) and isinstance(self.values.get(node), Tensor):
                self.builder.output(self.values[node])


# -- helpers shared by handlers
def _strip(t: torch.Tensor) -> tuple[int, ...]:
    """Shape without the batch dimension."""
    return tuple(int(s) for s in t.shape[1:])


def _flatten(obj) -> list:
    if isinstance(obj, (tuple, list)) and not isinstance(obj, Tensor):
        return [y for x in obj for y in _flatten(x)]
    if isinstance(obj, dict):
        return [y for x in obj.values() for y in _flatten(x)]
    return [obj]


def _has_tensor(obj) -> bool:
    return any(isinstance(x, torch.Tensor) for x in _flatten(obj))


def _first_tensor(obj) -> torch.Tensor:
    return next(x for x in _flatten(obj) if isinstance(x, torch.Tensor))


def _constant_params(args, kwargs) -> int:
    return sum(a.params for a in _flatten((args, kwargs)) if isinstance(a, Constant))


def _constant(args, kwargs, out) -> Constant | tuple:
    params = _constant_params(args, kwargs)
    if isinstance(out, (tuple, list)):
        return tuple(Constant(tuple(o.shape), params) if isinstance(o, torch.Tensor) else o for o in out)
    return Constant(tuple(out.shape), params)


def _op_name(node: fx.Node) -> str:
    """The function or method name, the same for ``F.relu``, ``Tensor.relu_`` and ``aten.relu``."""
    target = node.target
    if isinstance(target, str):
        name = target
    elif isinstance(target, torch._ops.OpOverload):
        name = target._opname
    else:
        name = getattr(target, "__name__", str(target))
    if name.endswith("_") and not name.endswith("__"):
        name = name[:-1]  # in-place variant
    return ALIASES.get(name, name)


def _where(node: fx.Node, modules: dict[str, nn.Module]) -> str:
    if node.op == "call_module":
        return f"module {node.target!r} ({type(modules[node.target]).__name__})"
    stack = node.meta.get("nn_module_stack")
    inside = f" in module {list(stack.values())[-1][0]!r}" if stack else ""
    return f"{node.op} {_op_name(node)!r} (node {node.name}){inside}"


def _first_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else ""


def _arg(args, kwargs, i: int, key: str, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(key, default)


def _passthrough(x: Tensor, out) -> Tensor | tuple:
    """A data-movement op: no node; its result is its input's data in a new shape."""
    if isinstance(out, (tuple, list)):
        return tuple(Tensor(x.node, _strip(o)) for o in out)
    return Tensor(x.node, _strip(out))


# -- emitters: the node each kind of op becomes, whichever capture found it
def _conv(conv: _Converter, x: Tensor, c_out: int, kernel, stride, dilation, groups: int, bias: bool, out):
    c_in, out_shape = x.shape[0], _strip(out)
    k = pair(kernel)
    macs, params = cost.conv_cost(c_in, c_out, k, groups, out_shape[1:], bias)
    return conv.node(conv_op_name(c_in, groups), [x], out_shape, kernel=k, stride=pair(stride),
                     dilation=pair(dilation)[0], groups=groups, bias=bias, macs=macs, params=params)


def _linear(conv: _Converter, x: Tensor, out_features: int, bias: bool, out):
    in_features = x.shape[-1]
    macs, params = cost.linear_cost(in_features, out_features, cost.numel(x.shape) // in_features, bias)
    return conv.node("linear", [x], _strip(out), bias=bias, macs=macs, params=params)


def _pool(conv: _Converter, kind: str, x: Tensor, kernel, stride, out):
    return conv.node(kind, [x], _strip(out), kernel=pair(kernel), stride=pair(stride or kernel))


def _adaptive_avg_pool(conv: _Converter, x: Tensor, out):
    """Global average pooling is ``mean``; an exact tiling is an ``avgpool``."""
    (h, w), (oh, ow) = x.shape[1:], _strip(out)[1:]
    if (oh, ow) == (1, 1):
        return conv.node("mean", [x], _strip(out))
    if h % oh == 0 and w % ow == 0:
        return _pool(conv, "avgpool", x, (h // oh, w // ow), (h // oh, w // ow), out)
    return conv.node("adaptive_avg_pool2d", [x], _strip(out))


# -- leaf modules
def _act(op: str):
    return lambda conv, m, x, out: conv.node(op, [x], _strip(out))


def _hardtanh_module(conv, m, x, out):
    return conv.node("relu6" if (m.min_val, m.max_val) == (0, 6) else "clamp", [x], _strip(out))


def _norm_module(op: str, channels: Callable[[nn.Module], int]):
    def emit(conv, m, x, out):
        affine = getattr(m, "affine", getattr(m, "elementwise_affine", True))
        has_bias = getattr(m, "bias", None) is not None
        return conv.node(op, [x], _strip(out), params=cost.norm_params(channels(m), affine, has_bias))
    return emit


MODULES: dict[type, Callable] = {
    nn.Conv2d: lambda c, m, x, out: _conv(c, x, m.out_channels, m.kernel_size, m.stride, m.dilation, m.groups,
                                          m.bias is not None, out),
    nn.Linear: lambda c, m, x, out: _linear(c, x, m.out_features, m.bias is not None, out),
    nn.modules.batchnorm._BatchNorm: _norm_module("batchnorm", lambda m: m.num_features),
    nn.LayerNorm: _norm_module("layernorm", lambda m: math.prod(m.normalized_shape)),
    nn.GroupNorm: _norm_module("groupnorm", lambda m: m.num_channels),
    nn.ReLU: _act("relu"), nn.ReLU6: _act("relu6"), nn.Sigmoid: _act("sigmoid"), nn.Tanh: _act("tanh"),
    nn.SiLU: _act("swish"), nn.Hardswish: _act("hardswish"), nn.Hardsigmoid: _act("hardsigmoid"),
    nn.GELU: _act("gelu"), nn.LeakyReLU: _act("leaky_relu"), nn.Softmax: _act("softmax"),
    nn.Hardtanh: _hardtanh_module,
    nn.MaxPool2d: lambda c, m, x, out: _pool(c, "maxpool", x, m.kernel_size, m.stride, out),
    nn.AvgPool2d: lambda c, m, x, out: _pool(c, "avgpool", x, m.kernel_size, m.stride, out),
    nn.AdaptiveAvgPool2d: lambda c, m, x, out: _adaptive_avg_pool(c, x, out),
    nn.Upsample: _act("upsample"),
    nn.modules.padding._ConstantPadNd: _act("pad"), nn.modules.padding._ReflectionPadNd: _act("pad"),
    nn.modules.padding._ReplicationPadNd: _act("pad"),
    Zero: lambda c, m, x, out: c.node("zero", [x], _strip(out), stride=(m.stride, m.stride)),
    nn.Identity: lambda c, m, x, out: _passthrough(x, out),
    nn.Flatten: lambda c, m, x, out: _passthrough(x, out),
    nn.Unflatten: lambda c, m, x, out: _passthrough(x, out),
    nn.modules.dropout._DropoutNd: lambda c, m, x, out: _passthrough(x, out),
}


# -- functions, methods and ATen ops (named alike)
def _tensors(args) -> list[Tensor]:
    return [a for a in _flatten(args) if isinstance(a, Tensor)]


def _elementwise(op: str):
    def emit(conv, args, kwargs, out):
        operands = args[:2]
        tensors = [a for a in operands if isinstance(a, Tensor)]
        if len(tensors) == 2:
            return conv.node(op, tensors, _strip(out))
        params = sum(a.params for a in operands if isinstance(a, Constant))
        if params:  # a learned scale or offset, e.g. a position embedding
            return conv.node(op, tensors, _strip(out), params=params)
        return _passthrough(tensors[0], out)
    return emit


def _activation(op: str):
    return lambda conv, args, kwargs, out: conv.node(op, _tensors(args[:1]), _strip(out))


def _clamp(conv, args, kwargs, out):
    """hardtanh/clamp to [0, 6] is ReLU6 (``F.relu6`` reaches ATen as hardtanh, ONNX writes Clip)."""
    low = args[1] if len(args) > 1 else kwargs.get("min", kwargs.get("min_val"))
    high = args[2] if len(args) > 2 else kwargs.get("max", kwargs.get("max_val"))
    op = "relu6" if (low, high) == (0, 6) else _op_name(conv.current)
    return conv.node(op, _tensors(args[:1]), _strip(out))


def _norm(op: str):
    def emit(conv, args, kwargs, out):
        params = _constant_params(args, kwargs)  # scale and shift; running statistics are buffers
        y = conv.node(op, _tensors(args[:1]), _strip(_first_tensor(out)), params=params)
        return (y,) + (None,) * (len(out) - 1) if isinstance(out, (tuple, list)) else y
    return emit


def _conv_function(conv, args, kwargs, out):
    x, weight, bias = args[0], args[1], _arg(args, kwargs, 2, "bias")
    return _conv(conv, x, weight.shape[0], weight.shape[2:], _arg(args, kwargs, 3, "stride", 1),
                 _arg(args, kwargs, 5, "dilation", 1), _arg(args, kwargs, 6, "groups", 1), bias is not None, out)


def _linear_function(conv, args, kwargs, out):
    return _linear(conv, args[0], args[1].shape[0], _arg(args, kwargs, 2, "bias") is not None, out)


def _matmul(conv, args, kwargs, out):
    """``a @ b``: every output element is a dot product over a's last dimension."""
    a, b = args[0], args[1]
    out_shape = _strip(out)
    macs = cost.matmul_cost(cost.numel(out_shape), a.shape[-1])
    params = sum(t.params for t in (a, b) if isinstance(t, Constant))
    return conv.node("matmul", _tensors((a, b)), out_shape, macs=macs, params=params)


def _sdpa(conv, args, kwargs, out):
    """scaled_dot_product_attention(q, k, v) as matmul(q, k^T) -> softmax -> matmul(., v)."""
    q, k, v = args[:3]
    heads_q = q.shape[:-1]
    scores = conv.node("matmul", [q, k], heads_q + k.shape[-2:-1],
                       macs=cost.matmul_cost(cost.numel(heads_q) * k.shape[-2], q.shape[-1]))
    probs = conv.node("softmax", [scores], scores.shape)
    return conv.node("matmul", [probs, v], _strip(out), macs=cost.matmul_cost(cost.numel(_strip(out)), k.shape[-2]))


def _concat(conv, args, kwargs, out):
    items = args[0]
    tensors = [t for t in items if isinstance(t, Tensor)]
    params = sum(t.params for t in items if isinstance(t, Constant))
    if len(tensors) == 1 and not params:
        return _passthrough(tensors[0], out)
    return conv.node("concat", tensors, _strip(out), params=params)


def _getitem(conv, args, kwargs, out):
    base = args[0]
    if isinstance(base, Tensor):
        return _passthrough(base, out)  # slicing
    return base[args[1]]


def _mean(conv, args, kwargs, out):
    return conv.node("mean", [args[0]], _strip(out))


def _max_pool(conv, args, kwargs, out):
    y = _pool(conv, "maxpool", args[0], args[1], _arg(args, kwargs, 2, "stride"), _first_tensor(out))
    return (y, None) if isinstance(out, (tuple, list)) else y


def _avg_pool(conv, args, kwargs, out):
    return _pool(conv, "avgpool", args[0], args[1], _arg(args, kwargs, 2, "stride"), out)


def _passthrough_function(conv, args, kwargs, out):
    return _passthrough(_tensors((args, kwargs))[0], out)


#: Name variants that mean the same op (operator module, ATen internals).
ALIASES = {"iadd": "add", "isub": "sub", "imul": "mul", "truediv": "div", "itruediv": "div", "multiply": "mul",
           "divide": "div", "subtract": "sub", "rsub": "sub", "_softmax": "softmax", "concat": "cat",
           "concatenate": "cat", "stack": "cat", "clip": "clamp", "max_pool2d_with_indices": "max_pool2d",
           "_adaptive_avg_pool2d": "adaptive_avg_pool2d", "bmm": "matmul", "mm": "matmul",
           "_native_batch_norm_legit_no_training": "batch_norm", "_native_batch_norm_legit_functional":
           "batch_norm", "_native_batch_norm_legit": "batch_norm", "native_batch_norm": "batch_norm",
           "native_layer_norm": "layer_norm", "native_group_norm": "group_norm", "silu": "swish",
           "upsample_nearest2d": "interpolate", "upsample_bilinear2d": "interpolate", "constant_pad_nd": "pad"}

_DATA_MOVEMENT = ("flatten", "reshape", "view", "view_as", "reshape_as", "permute", "transpose", "t", "swapaxes",
                  "movedim", "contiguous", "squeeze", "unsqueeze", "expand", "expand_as", "repeat", "clone",
                  "detach", "alias", "to", "_to_copy", "type", "type_as", "float", "half", "double", "cpu",
                  "chunk", "split", "split_with_sizes", "unbind", "select", "slice", "narrow", "unflatten",
                  "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
                  "native_dropout", "identity", "lift_fresh_copy")

FUNCTIONS: dict[str, Callable] = {
    **{name: _passthrough_function for name in _DATA_MOVEMENT},
    **{op: _elementwise(op) for op in ("add", "sub", "mul", "div")},
    **{name: _activation(name) for name in ("relu", "relu6", "sigmoid", "tanh", "swish", "hardswish",
                                            "hardsigmoid", "gelu", "leaky_relu", "softmax")},
    "hardtanh": _clamp, "clamp": _clamp,
    "batch_norm": _norm("batchnorm"), "layer_norm": _norm("layernorm"), "group_norm": _norm("groupnorm"),
    "conv2d": _conv_function, "linear": _linear_function,
    "matmul": _matmul, "scaled_dot_product_attention": _sdpa,
    "cat": _concat, "getitem": _getitem, "mean": _mean,
    "max_pool2d": _max_pool, "avg_pool2d": _avg_pool,
    "adaptive_avg_pool2d": lambda c, args, kwargs, out: _adaptive_avg_pool(c, args[0], out),
    "interpolate": _activation("upsample"), "pad": _activation("pad"),
}
