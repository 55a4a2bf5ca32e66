"""Convert an ONNX model into a :class:`ComputeGraph`.

The graph follows the conventions every route shares (see :mod:`gennape.graph.compute_graph`), so an
ONNX export of a PyTorch model converts to the same graph as :func:`gennape.graph.from_torch` of that
model:

* shapes come from ONNX shape inference, batch dimension removed;
* initialisers are weights, not nodes; a node whose inputs are all constants (shape arithmetic,
  ``Constant``, ``Shape`` and what is computed from them) is *static* and produces no node;
* ops that move no data (``Reshape``, ``Transpose``, ``Slice``, ``Dropout``, ...) are wired through;
* element-wise ops with one graph-tensor operand are dropped unless the other operand is a trainable
  parameter of more than one element, which the node then carries as its parameters;
* ``x * Sigmoid(x)`` is ``swish``; the decomposed GELU (``Div``/``Erf``/``Add``/``Mul``) is ``gelu``;
  the LayerNorm and HardSwish that opsets before 17 and 14 decompose are ``layernorm`` and
  ``hardswish``; ``MatMul`` by a weight followed by ``Add`` of a bias is one ``linear`` node;
  ``Clip(0, 6)`` is ``relu6`` (other bounds: ``clamp``, as from PyTorch).

Ops outside the vocabulary become ``oov`` nodes named by their ONNX op type. The module stays one
file, over 400 lines, because shape inference, constant folding, the fusion patterns and the op
table are one pipeline over the same ONNX graph and its inferred shapes.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import onnx
from onnx import numpy_helper

from ..errors import ConversionError, UnsupportedOpError
from . import cost
from .compute_graph import ComputeGraph, GraphBuilder, Tensor, conv_op_name
from .checks import check_input_shape

#: Ops that move no data: their outputs are their (first) data input, reshaped.
_WIRE_THROUGH = frozenset({"Identity", "Dropout", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
                           "Slice", "Split", "Gather", "Expand", "Cast", "CastLike"})
#: Ops whose output depends only on the *shape* of their input, which shape inference fixes.
_SHAPE_OF = frozenset({"Shape", "Size"})
_ACTIVATIONS = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Sigmoid": "sigmoid", "Tanh": "tanh",
                "HardSwish": "hardswish", "HardSigmoid": "hardsigmoid", "Gelu": "gelu", "Softmax": "softmax"}
_ELEMENTWISE = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}
_POOLS = {"MaxPool": "maxpool", "AveragePool": "avgpool"}
_SIMPLE = {"GlobalAveragePool": "mean", "ReduceMean": "mean", "Resize": "upsample", "Upsample": "upsample",
           "Pad": "pad"}
_SMALL = 64  # initialisers up to this many elements may be shape data, so shape inference sees them


def from_onnx(path_or_model: str | os.PathLike | onnx.ModelProto | bytes, *,
              input_shape: Sequence[int] | None = None, strict: bool = False, name: str | None = None) -> ComputeGraph:
    """The computation graph of an ONNX model (a file path, an ``onnx.ModelProto`` or the bytes of a
    serialised model).

    ``input_shape`` is the (C, H, W) of the model input without the batch; it is required when the
    file leaves dimensions other than the batch dynamic, and must agree with every dimension the
    model fixes (a static model is converted at its own size, never resized). It is checked as
    :func:`~gennape.graph.checks.check_input_shape` checks it (positive sizes, at most
    :data:`~gennape.graph.checks.MAX_INPUT_ELEMENTS` elements). ``strict=True`` raises
    :class:`UnsupportedOpError` on ops outside the vocabulary instead of making ``oov`` nodes.
    """
    if input_shape is not None:
        input_shape = check_input_shape(input_shape, ranks=None)  # the model's input fixes the rank
    model, source = _load(path_or_model)
    static, params = _constants(model.graph)
    shapes = _infer_shapes(model, source, input_shape, static)
    in_memory = isinstance(path_or_model, (onnx.ModelProto, bytes, bytearray))
    default_name = model.graph.name if in_memory else Path(path_or_model).stem
    return _Converter(model, shapes, static, params, source, strict).convert(name or default_name)


def _load(path_or_model) -> tuple[onnx.ModelProto, str]:
    if isinstance(path_or_model, onnx.ModelProto):
        model, source = path_or_model, "the ONNX model"
    elif isinstance(path_or_model, (bytes, bytearray)):
        source = f"the ONNX model read from {len(path_or_model):,} bytes"
        try:
            model = onnx.load_model_from_string(bytes(path_or_model))
        except Exception as e:  # DecodeError: not a serialised ModelProto
            raise ConversionError(f"the {len(path_or_model):,} bytes given are not a readable ONNX model "
                                  f"({type(e).__name__}: {e})") from None
    elif not isinstance(path_or_model, (str, os.PathLike)):
        raise ConversionError(f"from_onnx expects a file path, an onnx.ModelProto or the bytes of a model, got "
                              f"{type(path_or_model).__name__}")
    else:
        path = Path(path_or_model)
        source = str(path)
        if not path.is_file():
            raise ConversionError(f"no ONNX file at {path}")
        try:
            model = onnx.load(path)
        except Exception as e:  # DecodeError, external data missing, ...: all mean "not a usable model"
            raise ConversionError(f"{path} is not a readable ONNX model ({type(e).__name__}: {e})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise ConversionError(f"{source} has no graph nodes (empty or truncated file?)")
    weights = {t.name for t in model.graph.initializer}
    if not [i for i in model.graph.input if i.name not in weights]:
        raise ConversionError(f"{source} has no graph input")
    return model, source


def _dims(value_info: onnx.ValueInfoProto) -> list[int | str | None] | None:
    """Dimensions of a tensor type: an int when known, the symbol's name or None when dynamic."""
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]


def _constants(graph: onnx.GraphProto) -> tuple[set[str], dict[str, int]]:
    """The static tensors (computable without the model input: weights, constants, shapes and what
    is computed from them only) and, among them, the trainable parameters (initialisers, possibly
    reshaped or transposed) with their element counts."""
    static = {t.name for t in graph.initializer} | {""}
    params = {t.name: math.prod(t.dims) for t in graph.initializer}
    for node in graph.node:
        if node.op_type in _SHAPE_OF or all(i in static for i in node.input):
            static.update(node.output)
            if node.op_type in _WIRE_THROUGH and node.input and node.input[0] in params:
                params[node.output[0]] = params[node.input[0]]
    return static, params


def _infer_shapes(model: onnx.ModelProto, source: str, input_shape, static: set[str]) -> dict[str, tuple[int, ...]]:
    """Shape of every tensor (batch included, batch fixed to 1) by ONNX shape inference.

    Inference runs on a copy without the large weights (it only needs their shapes), which keeps
    converting a ResNet-50 well under a second. ONNX's inference does not evaluate constant
    subgraphs (e.g. ``Slice`` bounds built by ``Unsqueeze`` of constants); when that leaves a shape
    unknown, the small constants are evaluated and inference runs again.
    """
    graph = model.graph
    inputs = [_fixed_input(vi, source, input_shape) for vi in graph.input if vi.name not in static]
    small = [t for t in graph.initializer if math.prod(t.dims) <= _SMALL]  # may be shape data
    large = [onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
             for t in graph.initializer if math.prod(t.dims) > _SMALL]

    def infer(nodes, constants) -> dict[str, tuple[int, ...]]:
        light = onnx.helper.make_model(
            onnx.helper.make_graph(nodes, graph.name, inputs + large, graph.output, constants),
            opset_imports=model.opset_import, ir_version=model.ir_version)
        light.functions.extend(model.functions)
        try:
            inferred = onnx.shape_inference.infer_shapes(light, data_prop=True).graph
        except Exception as e:  # InferenceError, ValidationError: the model contradicts itself
            raise ConversionError(f"{source}: ONNX shape inference failed ({type(e).__name__}: {e})") from None
        shapes = {t.name: tuple(t.dims) for t in graph.initializer}
        for vi in [*inferred.input, *inferred.value_info, *inferred.output]:
            dims = _dims(vi)
            if dims is not None and all(isinstance(d, int) for d in dims):
                shapes[vi.name] = tuple(dims)
        return shapes

    shapes = infer(graph.node, small)
    if all(o in shapes or o in static for n in graph.node for o in n.output if o):
        return shapes
    values = _fold_constants(graph, static, shapes, small, {o.domain: o.version for o in model.opset_import})
    nodes = [n for n in graph.node if not all(o in values for o in n.output)]
    folded = [numpy_helper.from_array(v, name) for name, v in values.items()]
    return infer(nodes, small + folded)


def _fixed_input(vi: onnx.ValueInfoProto, source: str, input_shape) -> onnx.ValueInfoProto:
    """The graph input with batch 1 and its other dims fixed (from ``input_shape`` when given)."""
    dims = _dims(vi)
    if not dims:
        raise ConversionError(f"{source}: input {vi.name!r} has no shape")
    if input_shape is not None:
        if len(input_shape) != len(dims) - 1:
            raise ConversionError(f"{source}: input {vi.name!r} has dims {_show(dims)}, but input_shape="
                                  f"{tuple(input_shape)} has {len(input_shape)} dims instead of {len(dims) - 1}")
        _check_static_dims(vi.name, dims, input_shape, source)
        dims = [1, *input_shape]
    elif not all(isinstance(d, int) and d > 0 for d in dims[1:]):
        raise ConversionError(f"{source}: input {vi.name!r} has dynamic dims {_show(dims)}; pass "
                              f"input_shape=(C, H, W) to fix them")
    return onnx.helper.make_tensor_value_info(vi.name, vi.type.tensor_type.elem_type,
                                              [1, *(int(d) for d in dims[1:])])


def _check_static_dims(name: str, dims: list, input_shape: Sequence[int], source: str) -> None:
    """Raise unless ``input_shape`` equals every non-batch dim the model fixes: the weights were made
    for those sizes (channels), and a converted graph must not silently differ from the model (H, W)."""
    labels = ("C", "H", "W") if len(input_shape) == 3 else tuple(f"dim {i + 1}" for i in range(len(input_shape)))
    clashes = [f"{label}={want} where the model has {have}" for label, have, want in zip(labels, dims[1:], input_shape)
               if isinstance(have, int) and have > 0 and have != want]
    if clashes:
        raise ConversionError(f"{source}: input {name!r} declares dims {_show(dims)}, but input_shape="
                              f"{tuple(input_shape)} asks for {', '.join(clashes)}; a model is converted at the "
                              "sizes it fixes, never resized: make input_shape agree with them (or leave it out "
                              "for a static model), or export the model with dynamic sizes")


def _fold_constants(graph: onnx.GraphProto, static: set[str], shapes: dict[str, tuple[int, ...]],
                    small: list[onnx.TensorProto], opsets: dict[str, int]) -> dict[str, np.ndarray]:
    """Values of the static tensors computable from small constants and known shapes."""
    from onnx.reference import ReferenceEvaluator  # slow to import; needed only here

    known = {t.name: numpy_helper.to_array(t) for t in small}
    values: dict[str, np.ndarray] = {}
    for node in graph.node:
        if not all(o in static for o in node.output):
            continue
        if node.op_type in _SHAPE_OF and node.input[0] in shapes:
            feeds = {node.input[0]: np.empty(shapes[node.input[0]], dtype=np.float32)}
        elif all(i in known for i in node.input if i):
            feeds = {i: known[i] for i in node.input if i}
        else:
            continue
        # wrapped in a function, as a bare node would run with the latest opset's semantics
        function = onnx.helper.make_function("gennape", "fold", list(feeds), list(node.output), [node],
                                             [onnx.helper.make_opsetid(d, v) for d, v in opsets.items()])
        try:
            results = ReferenceEvaluator(function).run(None, feeds, attributes={})
        except Exception:  # an op the reference runtime lacks: its consumers keep unknown shapes
            continue
        for o, v in zip(node.output, results):
            known[o] = values[o] = np.asarray(v)
    return values


def _show(dims) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Fusion(NamedTuple):
    """Several ONNX nodes that make one graph node: ``op`` applied to tensor ``x``, emitted in place
    of node ``last``; the ``inner`` nodes produce nothing."""
    op: str
    x: str
    inner: list[onnx.NodeProto]
    last: onnx.NodeProto
    params: int = 0


class _Converter:
    """One pass over the (topologically sorted) ONNX nodes, building the graph as it goes."""

    def __init__(self, model: onnx.ModelProto, shapes: dict[str, tuple[int, ...]], static: set[str],
                 param_numel: dict[str, int], source: str, strict: bool):
        graph = self.graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
        self.shapes, self.source, self.strict = shapes, source, strict
        self.static, self.param_numel = static, param_numel
        self.initializers = {t.name: t for t in graph.initializer}
        self.producer: dict[str, onnx.NodeProto] = {}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in graph.node:
            for o in node.output:
                self.producer[o] = node
            for i in node.input:
                self.consumers.setdefault(i, []).append(node)
        self.outputs = {o.name for o in graph.output}
        self.tensors: dict[str, Tensor] = {}
        self.skipped: set[int] = set()  # ids of nodes that produce nothing (inside a fusion)
        self.fused: dict[int, _Fusion] = {}  # by id of the fusion's last node
        self._find_fusions()
        self.b = GraphBuilder()

    # ------------------------------------------------------------ fusions
    def _find_fusions(self) -> None:
        """Ops exported as several nodes: ``Mul(x, Sigmoid(x))`` is ``swish`` (with ``HardSigmoid``
        before opset 14: ``hardswish``); ``Mul(x, Add(Erf(Div(x, c)), c'))`` (times 0.5 before or
        after) is ``gelu``; LayerNorm before opset 17 is ``ReduceMean``/``Sub``/``Pow``/
        ``ReduceMean``/``Add``/``Sqrt``/``Div``, then ``Mul`` by the scale and ``Add`` of the shift."""
        for node in self.graph.node:
            if any(i in self.static for i in node.input):
                continue
            chain = None
            if node.op_type == "Mul":
                for a, b in (node.input, node.input[::-1]):
                    chain = self._swish_chain(node, a, b) or self._gelu_chain(node, a, b)
                    if chain:
                        break
            elif node.op_type == "Div":
                chain = self._layernorm_chain(node)
            if chain:
                self.fused[id(chain.last)] = chain
                self.skipped.update(id(n) for n in chain.inner)

    def _sole_producer(self, name: str, op_type: str, consumer: onnx.NodeProto) -> onnx.NodeProto | None:
        """The ``op_type`` node producing ``name`` when ``consumer`` is its only reader."""
        node = self.producer.get(name)
        ok = node is not None and node.op_type == op_type and self._only_consumer(name) is consumer
        return node if ok else None

    def _scaled_input(self, name: str) -> str:
        """``x`` when ``name`` is ``x`` times or divided by a constant, else ``name``."""
        node = self.producer.get(name)
        if node is not None and node.op_type in ("Mul", "Div") and node.input[1] in self.static:
            return node.input[0]
        return name

    def _swish_chain(self, mul: onnx.NodeProto, x: str, s: str) -> _Fusion | None:
        sig = self._sole_producer(s, "Sigmoid", mul)
        if sig is not None and sig.input[0] == x:
            return _Fusion("swish", x, [sig], mul)
        gate = self._sole_producer(s, "HardSigmoid", mul)
        if gate is not None and gate.input[0] == x and self.opset < 14:  # opset 14 brought HardSwish
            return _Fusion("hardswish", x, [gate], mul)
        return None

    def _gelu_chain(self, mul: onnx.NodeProto, x_half: str, s: str) -> _Fusion | None:
        add = self._sole_producer(s, "Add", mul)
        if add is None:
            return None
        for e, c in (add.input, add.input[::-1]):
            erf = self._sole_producer(e, "Erf", add)
            if erf is not None and c in self.static:
                x = self._scaled_input(erf.input[0])
                if x != erf.input[0] and x == self._scaled_input(x_half):
                    return _Fusion("gelu", x, [erf, add], mul)
        return None

    def _layernorm_chain(self, div: onnx.NodeProto) -> _Fusion | None:
        centred, std = div.input
        sub, sqrt = self.producer.get(centred), self._sole_producer(std, "Sqrt", div)
        if sub is None or sub.op_type != "Sub" or sqrt is None:
            return None
        x, mean_name = sub.input
        mean = self._sole_producer(mean_name, "ReduceMean", sub)
        plus_eps = self._sole_producer(sqrt.input[0], "Add", sqrt)
        if mean is None or mean.input[0] != x or plus_eps is None:
            return None
        var = self._sole_producer(plus_eps.input[0], "ReduceMean", plus_eps)
        square = var and self._sole_producer(var.input[0], "Pow", var)
        if not square or square.input[0] != centred or len(self.consumers[centred]) != 2:
            return None
        inner, last, params = [mean, sub, square, var, plus_eps, sqrt], div, 0
        for op_type in ("Mul", "Add"):  # the affine scale, then the shift
            follower = self._only_consumer(last.output[0])
            if follower is None or follower.op_type != op_type:
                break
            other = [i for i in follower.input if i != last.output[0]]
            if len(other) != 1 or other[0] not in self.param_numel:
                break
            inner.append(last)
            last, params = follower, params + self.param_numel[other[0]]
        return _Fusion("layernorm", x, inner, last, params)

    # ------------------------------------------------------------ helpers
    def _where(self, node: onnx.NodeProto) -> str:
        return f"node {node.name or node.output[0]!r} ({node.op_type}) of {self.source}"

    def _shape(self, name: str, node: onnx.NodeProto) -> tuple[int, ...]:
        """Shape of tensor ``name`` without the batch dimension."""
        if name not in self.shapes:
            raise ConversionError(f"shape inference could not determine the shape of {name!r}, output of "
                                  f"{self._where(node)}")
        return self.shapes[name][1:]

    def _data_inputs(self, node: onnx.NodeProto) -> list[Tensor]:
        out = []
        for i in node.input:
            if i in self.static:
                continue
            if i not in self.tensors:
                raise ConversionError(f"{self._where(node)} reads tensor {i!r} before it is produced "
                                      "(the graph is incomplete or not topologically sorted)")
            out.append(self.tensors[i])
        return out

    def _only_consumer(self, name: str) -> onnx.NodeProto | None:
        users = self.consumers.get(name, [])
        return users[0] if len(users) == 1 and name not in self.outputs else None

    # ------------------------------------------------------------ conversion
    def convert(self, name: str) -> ComputeGraph:
        self.b.name = name
        for vi in self.graph.input:
            if vi.name not in self.initializers:
                self.tensors[vi.name] = self.b.input(self.shapes[vi.name][1:])
        for node in self.graph.node:
            if id(node) in self.skipped or all(o in self.static for o in node.output):
                continue
            self._convert_node(node)
        for vi in self.graph.output:
            if vi.name not in self.static:
                self.b.output(self.tensors[vi.name])
        return self.b.build()

    def _emit(self, node: onnx.NodeProto, op: str, inputs: list[Tensor], **features) -> None:
        self.tensors[node.output[0]] = self.b.add_node(op, inputs, self._shape(node.output[0], node), **features)

    def _alias(self, node: onnx.NodeProto, source: Tensor) -> None:
        outputs = node.output if node.op_type == "Split" else node.output[:1]
        for o in outputs:
            self.tensors[o] = Tensor(source.node, self._shape(o, node))

    def _convert_node(self, node: onnx.NodeProto) -> None:
        op = node.op_type
        if id(node) in self.fused:
            fusion = self.fused[id(node)]
            self._emit(node, fusion.op, [self.tensors[fusion.x]], params=fusion.params)
            return
        data = self._data_inputs(node)  # not empty: a node reading only constants is static
        if op in _WIRE_THROUGH:
            self._alias(node, data[0])
        elif op == "Conv" and len(self.shapes[node.input[1]]) == 4:  # 2-D; others are out of vocabulary
            self._conv(node, data[0])
        elif op in ("Gemm", "MatMul"):
            self._matmul(node, data)
        elif op in _ELEMENTWISE:
            self._elementwise(node, data)
        elif op in _ACTIVATIONS:
            self._emit(node, _ACTIVATIONS[op], data)
        elif op == "Clip":
            self._clip(node, data[0])
        elif op in ("BatchNormalization", "LayerNormalization"):
            params = sum(self.param_numel.get(i, 0) for i in node.input[1:3])
            self._emit(node, "batchnorm" if op == "BatchNormalization" else "layernorm", data, params=params)
        elif op in _POOLS and len(_attrs(node)["kernel_shape"]) == 2:
            a = _attrs(node)
            self._emit(node, _POOLS[op], data, kernel=tuple(a["kernel_shape"]),
                       stride=tuple(a.get("strides", (1, 1))))
        elif op in _SIMPLE:
            self._emit(node, _SIMPLE[op], data[:1])
        elif op == "Concat":
            self._concat(node, data)
        else:
            if self.strict:
                raise UnsupportedOpError(op, self._where(node))
            self._emit(node, op, data)

    def _conv(self, node: onnx.NodeProto, x: Tensor) -> None:
        a = _attrs(node)
        kernel = tuple(self.shapes[node.input[1]][2:])
        stride, groups = tuple(a.get("strides", (1, 1))), a.get("group", 1)
        bias = len(node.input) > 2 and node.input[2] != ""
        out = self._shape(node.output[0], node)
        macs, params = cost.conv_cost(x.shape[0], out[0], kernel, groups, out[1:], bias)
        self._emit(node, conv_op_name(x.shape[0], groups), [x], kernel=kernel, stride=stride,
                   dilation=a.get("dilations", [1])[0], groups=groups, bias=bias, macs=macs, params=params)

    def _matmul(self, node: onnx.NodeProto, data: list[Tensor]) -> None:
        """A product with a weight is ``linear`` (absorbing a following bias ``Add``); a product of
        two graph tensors is ``matmul``."""
        out = self._shape(node.output[0], node)
        if len(data) == 2:
            contracted = self.shapes[node.input[0]][-1]
            self._emit(node, "matmul", data, macs=cost.matmul_cost(cost.numel(out), contracted))
            return
        if node.input[0] in self.static:  # weight @ x: not a layer PyTorch has; count it as a product
            contracted = self.shapes[node.input[0]][-1]
            self._emit(node, "matmul", data, macs=cost.matmul_cost(cost.numel(out), contracted),
                       params=self.param_numel.get(node.input[0], 0))
            return
        x = data[0]
        in_features, out_features = x.shape[-1], out[-1]
        bias_add = self._bias_add(node, out_features)
        bias = bias_add is not None or (node.op_type == "Gemm" and len(node.input) > 2 and node.input[2] != "")
        macs, params = cost.linear_cost(in_features, out_features, cost.numel(x.shape) // in_features, bias)
        self._emit(node, "linear", [x], bias=bias, macs=macs, params=params)
        if bias_add is not None:
            self.skipped.add(id(bias_add))
            self.tensors[bias_add.output[0]] = Tensor(self.tensors[node.output[0]].node,
                                                      self._shape(bias_add.output[0], bias_add))

    def _bias_add(self, node: onnx.NodeProto, out_features: int) -> onnx.NodeProto | None:
        """The ``Add`` of a bias vector that follows ``MatMul(x, W)`` (PyTorch's Linear on a 3-D input)."""
        if node.op_type != "MatMul":
            return None
        add = self._only_consumer(node.output[0])
        if add is None or add.op_type != "Add":
            return None
        other = [i for i in add.input if i != node.output[0]]
        if len(other) == 1 and self.param_numel.get(other[0]) == out_features:
            return add
        return None

    def _elementwise(self, node: onnx.NodeProto, data: list[Tensor]) -> None:
        op = _ELEMENTWISE[node.op_type]
        if len(data) == 2:
            self._emit(node, op, data)
            return
        constant = next(i for i in node.input if i in self.static)
        params = self.param_numel.get(constant, 0)
        # A trainable tensor (position embedding, layer scale) makes a layer of its own. One-element
        # initialisers are left out: exporters store scalar constants as initialisers too.
        if params > 1:
            self._emit(node, op, data, params=params)
        else:  # scaling or shifting by a constant moves no information
            self._alias(node, data[0])

    def _concat(self, node: onnx.NodeProto, data: list[Tensor]) -> None:
        """A concat of graph tensors, or with a parameter (e.g. a class token) that it then carries."""
        params = sum(self.param_numel.get(i, 0) for i in node.input if i in self.static)
        if len(data) == 1 and not params:
            self._alias(node, data[0])
        else:
            self._emit(node, "concat", data, params=params)

    def _clip(self, node: onnx.NodeProto, x: Tensor) -> None:
        a = _attrs(node)
        low, high = a.get("min"), a.get("max")  # before opset 11 the bounds were attributes
        if len(node.input) > 1 and node.input[1]:
            low = self._scalar(node.input[1])
        if len(node.input) > 2 and node.input[2]:
            high = self._scalar(node.input[2])
        op = "relu6" if (low, high) == (0, 6) else "clamp"
        if self.strict and op == "clamp":
            raise UnsupportedOpError(f"Clip(min={low}, max={high})", self._where(node))
        self._emit(node, op, [x])

    def _scalar(self, name: str) -> float | None:
        value = self._value(name)
        return float(value) if value is not None and value.size == 1 else None

    def _value(self, name: str) -> np.ndarray | None:
        """The value of a constant tensor when it is stored in the file (initialiser or Constant)."""
        if name in self.initializers:
            return numpy_helper.to_array(self.initializers[name])
        node = self.producer.get(name)
        if node is None:
            return None
        if node.op_type == "Constant":
            value = _attrs(node).get("value")
            return numpy_helper.to_array(value) if value is not None else None
        if node.op_type in ("Identity", "Cast"):
            return self._value(node.input[0])
        return None
