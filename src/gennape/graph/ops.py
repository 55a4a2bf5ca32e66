"""The op vocabulary of computation graphs.

GENNAPE's primitives (input, output, conv, depthwise, batchnorm, relu, relu6, linear/matmul, add, mul,
concat, max/avg pool, sigmoid, tanh, swish, gelu, mean, zero, pad) plus what modern networks need.
Grouped convolutions (1 < groups < channels) and depthwise convolutions (groups == in channels) are
separate ops. Anything else becomes ``oov`` and keeps its original name on the node.

The vocabulary is append-only: an op's index never changes, so trained embeddings stay valid.
``VOCAB_VERSION`` is bumped whenever an op is appended.
"""

from __future__ import annotations

VOCAB_VERSION = 1

OPS: tuple[str, ...] = (
    "oov",
    "input",
    "output",
    # weighted ops
    "conv",
    "depthwise",
    "group_conv",
    "linear",
    # normalisation
    "batchnorm",
    "layernorm",
    "groupnorm",
    # activations
    "relu",
    "relu6",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "swish",
    "hardswish",
    "hardsigmoid",
    "gelu",
    "softmax",
    # tensor arithmetic
    "add",
    "sub",
    "mul",
    "div",
    "matmul",
    "concat",
    # pooling and resampling
    "maxpool",
    "avgpool",
    "mean",
    "upsample",
    "pad",
    "zero",
)

OP_INDEX: dict[str, int] = {name: i for i, name in enumerate(OPS)}

#: Ops that own a weight tensor (their ``kernel`` and ``bias`` fields are meaningful).
WEIGHTED_OPS = frozenset({"conv", "depthwise", "group_conv", "linear"})

#: Ops that combine several graph tensors.
MULTI_INPUT_OPS = frozenset({"add", "sub", "mul", "div", "matmul", "concat"})

#: Ops whose operand order does not change the result; their recorded input shape is the largest
#: operand, so that ``a + b`` and ``b + a`` give the same node.
COMMUTATIVE_OPS = frozenset({"add", "mul", "concat"})


def op_index(name: str) -> int:
    """Index of ``name`` in :data:`OPS`, or of ``oov`` when it is not in the vocabulary."""
    return OP_INDEX.get(name, 0)
