"""from_torch: structure against hand-built graphs, the shared conventions, the torch.export
fallback, strict mode, bad input, and that conversion never runs a real forward pass."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch._subclasses.fake_tensor import is_fake

from gennape.errors import ConversionError, UnsupportedOpError
from gennape.examples import example
from gennape.examples.models import Attention, BasicBlock, SqueezeExcite
from gennape.graph import GraphBuilder, Tensor
from gennape.graph import from_torch
from gennape.graph.modules import Zero


def assert_same(g, expected):
    assert g == expected, g.diff(expected)


class ShapeGuarded(nn.Module):
    """Python control flow on the input shape: torch.fx cannot trace it, torch.export can."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        if x.shape[-1] < 1:
            raise ValueError("empty input")
        return self.inner(x)


# ---------------------------------------------------------------------------- structure
def test_plain_cnn_matches_builder_and_drops_dropout_and_flatten():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2, 2), nn.Dropout(0.5), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 10))
    b = GraphBuilder()
    x = b.pool(b.relu(b.bn(b.conv(b.input((3, 16, 16)), 8, 3))), "maxpool", 2, 2, padding=0)
    b.output(b.linear(b.mean(x), 10))
    g = from_torch(model, (3, 16, 16))
    assert_same(g, b.build())
    assert g.ops == ["input", "conv", "batchnorm", "relu", "maxpool", "mean", "linear", "output"]
    assert g.kernels[g.ops.index("maxpool")].tolist() == [2, 2]
    assert g.strides[g.ops.index("maxpool")].tolist() == [2, 2]


def test_residual_block_with_projection_shortcut():
    b = GraphBuilder()
    x = b.input((8, 16, 16))
    body = b.bn(b.conv(b.relu(b.bn(b.conv(x, 16, 3, 2))), 16, 3))
    shortcut = b.bn(b.conv(x, 16, 1, 2))
    b.output(b.relu(b.add(body, shortcut)))
    assert_same(from_torch(BasicBlock(8, 16, 2), (8, 16, 16)), b.build())


def test_identity_shortcut_and_mean_over_spatial_dims_have_no_extra_nodes():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block, self.fc = BasicBlock(8, 8), nn.Linear(8, 3)

        def forward(self, x):
            return self.fc(self.block(x).mean((2, 3)))

    b = GraphBuilder()
    x = b.input((8, 8, 8))
    y = b.relu(b.add(b.bn(b.conv(b.relu(b.bn(b.conv(x, 8, 3))), 8, 3)), x))
    b.output(b.linear(b.mean(y), 3))
    assert_same(from_torch(Net(), (8, 8, 8)), b.build())


@pytest.mark.parametrize("groups, op", [(1, "conv"), (2, "group_conv"), (8, "depthwise")])
def test_grouped_convolutions(groups, op):
    g = from_torch(nn.Conv2d(8, 8, 3, padding=1, groups=groups), (8, 10, 10))
    assert g.ops == ["input", op, "output"]
    assert g.flops == 8 * (8 // groups) * 9 * 100
    assert g.params == 8 * (8 // groups) * 9 + 8


def test_squeeze_excite_is_a_mul_of_the_map_and_its_gate():
    b = GraphBuilder()
    x = b.input((16, 8, 8))
    gate = b.act(b.conv(b.relu(b.conv(b.mean(x, keepdim=True), 4, 1, bias=True)), 16, 1, bias=True),
                 "hardsigmoid")
    b.output(b.mul(x, gate))
    g = from_torch(SqueezeExcite(16, 4), (16, 8, 8))
    assert_same(g, b.build())
    assert g.shapes[g.ops.index("mul")].tolist() == [8, 8, 16, 8, 8, 16]


@pytest.mark.parametrize("swish", [lambda x: x * torch.sigmoid(x), lambda x: torch.sigmoid(x) * x,
                                   nn.SiLU(), F.silu])
def test_swish_is_one_node(swish):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)

        def forward(self, x):
            return swish(self.conv(x))

    assert from_torch(Net(), (3, 4, 4)).ops == ["input", "conv", "swish", "output"]


def test_sigmoid_used_elsewhere_is_not_fused():
    class Net(nn.Module):
        def forward(self, x):
            s = torch.sigmoid(x)
            return x * s + s

    assert sorted(from_torch(Net(), (3, 4, 4)).ops) == ["add", "input", "mul", "output", "sigmoid"]


def test_scalar_ops_are_dropped_but_learned_operands_are_kept():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(4, 1, 1))

        def forward(self, x):
            return (x * 2.0 + 1) * self.scale - x.mean()

    b = GraphBuilder()
    x = b.input((4, 5, 5))
    scaled = b.add_node("mul", [x], (4, 5, 5), params=4)
    b.output(b.add_node("sub", [scaled, b.add_node("mean", [x], ())], (4, 5, 5)))
    assert_same(from_torch(Net(), (4, 5, 5)), b.build())


def attention_graph(n: int, dim: int, heads: int):
    """The expected graph of examples.models.Attention on (n, dim) tokens."""
    b = GraphBuilder()
    qkv = b.linear(b.input((n, dim)), 3 * dim)
    head = Tensor(qkv.node, (heads, n, dim // heads))  # reshape, permute and select: no nodes
    scores = b.add_node("matmul", [head, head], (heads, n, n), macs=heads * n * n * (dim // heads))
    mixed = b.add_node("matmul", [b.act(scores, "softmax"), head], (heads, n, dim // heads),
                       macs=heads * n * (dim // heads) * n)
    b.output(b.linear(Tensor(mixed.node, (n, dim)), dim))
    return b.build()


def test_attention_matmuls_and_their_macs():
    g = from_torch(Attention(16, 2), (8, 16))
    assert_same(g, attention_graph(8, 16, 2))
    assert g.ops.count("matmul") == 2
    assert g.flops == 8 * 16 * 48 + 2 * (2 * 8 * 8 * 8) + 8 * 16 * 16


def test_scaled_dot_product_attention_is_matmul_softmax_matmul():
    class SdpaAttention(Attention):
        def forward(self, x):
            b, n, d = x.shape
            q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
            return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d))

    assert_same(from_torch(SdpaAttention(16, 2), (8, 16)), attention_graph(8, 16, 2))


def test_class_token_and_position_embedding_carry_their_params():
    g = from_torch(*example("vit_tiny"))
    concat = g.ops.index("concat")
    assert g.param_counts[concat] == 64  # the class token
    assert g.shapes[concat].tolist() == [64, 1, 64, 65, 1, 64]
    assert g.param_counts[g.successors()[concat][0]] == 65 * 64  # the position embedding add


def test_zero_module_becomes_zero_node():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.none = nn.Conv2d(4, 4, 3, 2, 1, bias=False), Zero(4, 4, 2)

        def forward(self, x):
            return self.conv(x) + self.none(x)

    b = GraphBuilder()
    x = b.input((4, 8, 8))
    b.output(b.add(b.conv(x, 4, 3, 2), b.zero(x, 4, 2)))
    assert_same(from_torch(Net(), (4, 8, 8)), b.build())


def test_every_output_tensor_gets_an_output_node():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 2), nn.Linear(4, 3)

        def forward(self, x):
            return {"a": self.a(x), "b": self.b(x)}

    g = from_torch(TwoHeads(), (4,))
    assert g.ops.count("output") == 2 and g.ops.count("linear") == 2


# ---------------------------------------------------------------------------- torch.export fallback
def test_export_fallback_equals_fx_graph_of_the_static_model():
    class Static(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.pool, self.fc = nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.MaxPool2d(2), \
                nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(self.pool(F.relu(self.bn(self.conv(x)))).mean((2, 3)))

    class ShapeDependent(Static):
        def forward(self, x):
            x = F.relu(self.bn(self.conv(x)))
            if x.shape[-1] > 8:  # fx cannot trace this
                x = self.pool(x)
            return self.fc(x.mean((2, 3)))

    with pytest.raises(torch.fx.proxy.TraceError):
        torch.fx.symbolic_trace(ShapeDependent())
    exported = from_torch(ShapeDependent(), (3, 18, 18), name="Static")
    assert_same(exported, from_torch(Static(), (3, 18, 18)))
    assert exported.ops.count("maxpool") == 1
    assert from_torch(ShapeDependent(), (3, 8, 8)).ops.count("maxpool") == 0  # specialised to the shape


@pytest.mark.parametrize("name", ["mobilenet_v3_small_like", "vit_tiny", "darts_like"])
def test_export_fallback_maps_aten_ops_like_fx(name):
    model, shape = example(name)
    assert_same(from_torch(ShapeGuarded(model), shape), from_torch(model, shape))


def test_model_neither_capture_handles_names_both_failures():
    class ValueDependent(nn.Module):
        def forward(self, x):
            return x.relu() if x.sum() > 0 else x

    with pytest.raises(ConversionError, match="ValueDependent.*torch.fx failed.*torch.export failed"):
        from_torch(ValueDependent(), (3, 8, 8))


# ---------------------------------------------------------------------------- unknown ops
class WithElu(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ELU())

    def forward(self, x):
        return torch.erf(self.body(x))


def test_unknown_ops_become_named_oov_nodes():
    g = from_torch(WithElu(), (3, 8, 8))
    assert g.ops == ["input", "conv", "ELU", "erf", "output"]
    assert g.oov_ops == ["ELU", "erf"]


def test_strict_mode_names_the_op_and_where_it_is():
    with pytest.raises(UnsupportedOpError, match=r"'ELU' in module 'body.1' \(ELU\)"):
        from_torch(WithElu(), (3, 8, 8), strict=True)
    without_elu = WithElu()
    without_elu.body[1] = nn.ReLU()
    with pytest.raises(UnsupportedOpError, match=r"'erf' in call_function 'erf'"):
        from_torch(without_elu, (3, 8, 8), strict=True)
    assert from_torch(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()), (3, 8, 8), strict=True).oov_ops == []


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad", [nn.Conv2d, "resnet", torch.zeros(3)])
def test_non_module_is_rejected_with_its_type(bad):
    with pytest.raises(ConversionError, match=type(bad).__name__):
        from_torch(bad, (3, 8, 8))


@pytest.mark.parametrize("shape, message", [((1, 3, 32, 32), "batch"), ((3, 0, 32), "non-positive"),
                                            ((3, 32.0, 32), "tuple of ints"), ("3x32x32", "tuple of ints"),
                                            ((3, 32, 32, 1, 1), r"\(C, H, W\)"), ((), r"\(C, H, W\)"),
                                            ((3, True, 4), "tuple of ints")])
def test_malformed_input_shape(shape, message):
    with pytest.raises(ConversionError, match=message):
        from_torch(nn.Conv2d(3, 4, 3), shape)


class NormAfterLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.norm = nn.Linear(8, 6), nn.LayerNorm(5)

    def forward(self, x):
        return self.norm(self.fc(x))


def test_shape_the_model_rejects_names_the_layer_and_the_shape():
    model, _ = example("resnet_small")
    with pytest.raises(ConversionError, match=r"'stem.0' \(Conv2d\) rejected input shape\(s\) \[\(4, 32, 32\)\]"):
        from_torch(model, (4, 32, 32))
    with pytest.raises(ConversionError, match=r"'norm' \(LayerNorm\) rejected input shape\(s\) \[\(7, 6\)\]"):
        from_torch(NormAfterLinear(), (7, 8))
    with pytest.raises(ConversionError, match=r"'fc' \(Linear\)"):
        from_torch(NormAfterLinear(), (7, 9))
    with pytest.raises(ConversionError, match=r"'1' \(BatchNorm2d\) rejected input shape\(s\) \[\(4, 6, 6\)\]"):
        from_torch(nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(5)), (3, 6, 6))


# ---------------------------------------------------------------------------- no real forward
@pytest.mark.parametrize("wrap", [lambda m: m, ShapeGuarded], ids=["fx", "export"])
def test_conversion_never_runs_a_layer_on_real_data(wrap):
    model, shape = example("mobilenet_v3_small_like")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seen = []  # (layer, what its output was); fx's symbolic trace also calls containers, with proxies

    def record(m, args, out):
        seen.append((type(m).__name__, "fake" if is_fake(out) else type(out).__name__))
    for m in model.modules():
        m.register_forward_hook(record)
    from_torch(wrap(model), shape)
    assert {"Conv2d", "Linear", "Hardswish"} <= {name for name, kind in seen if kind == "fake"}
    assert {kind for _, kind in seen} <= {"fake", "Proxy"}, seen
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # e.g. BN statistics untouched
