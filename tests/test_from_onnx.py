"""from_onnx: ONNX exports convert to the same graphs as from_torch of their source models, whatever
the exporter and opset; bad files and unsupported ops raise errors that name the culprit."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn
from torch.fx.experimental.optimization import fuse as fold_batchnorm
from torch.nn import functional as F

from gennape.errors import ConversionError, UnsupportedOpError
from gennape.examples.models import example
from gennape.graph import from_onnx, from_torch

SMALL_MODELS = ["resnet_small", "mobilenet_v3_small_like", "inception_like", "darts_like", "vit_tiny"]


def export(model: nn.Module, shape, path, **options):
    """Export with the reference settings (TorchScript exporter, BatchNorm kept, opset 17) unless
    ``options`` override them."""
    settings = dict(dynamo=False, do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
                    opset_version=17) | options
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.randn(1, *shape),), path, **settings)
    return path


def assert_same(a, b):
    assert a == b, a.diff(b)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (model, input shape, reference export) for the small example models."""
    folder = tmp_path_factory.mktemp("onnx")
    out = {}
    for name in SMALL_MODELS:
        torch.manual_seed(0)
        model, shape = example(name)
        out[name] = model, shape, export(model, shape, folder / f"{name}.onnx")
    return out


@pytest.mark.parametrize("name", SMALL_MODELS)
def test_reference_export_matches_from_torch(exported, name):
    model, shape, path = exported[name]
    graph = from_onnx(path)
    assert graph.name == name
    assert graph.params == sum(p.numel() for p in model.parameters())
    assert_same(graph, from_torch(model, shape))


@pytest.mark.parametrize("name", SMALL_MODELS)
def test_other_opsets_give_the_same_graph(exported, name, tmp_path):
    """Opset 12 decomposes LayerNorm and HardSwish into several nodes and has ``Unsqueeze`` axes as
    attributes; 18 has ``ReduceMean`` axes as an input; 20 is the newest the exporter offers."""
    model, shape, path = exported[name]
    for opset in (12, 18, 20):
        assert_same(from_onnx(export(model, shape, tmp_path / f"{opset}.onnx", opset_version=opset)),
                     from_onnx(path))


@pytest.mark.parametrize("name", ["resnet_small", "darts_like", "vit_tiny"])
def test_default_exporter_matches_the_batchnorm_folded_model(name, tmp_path):
    """torch.onnx's default (dynamo) exporter folds BatchNorm into the convolutions in eval mode."""
    model, shape = example(name)
    for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        nn.init.normal_(bn.bias)  # a non-zero shift, so that the folded convolutions get a bias
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.randn(1, *shape),), tmp_path / "m.onnx", verbose=False)
    graph = from_onnx(tmp_path / "m.onnx")
    assert graph.ops.count("batchnorm") == (1 if name == "darts_like" else 0)  # after a concat: kept
    assert_same(graph, from_torch(fold_batchnorm(model), shape))


def test_accepts_a_loaded_model(exported):
    _, _, path = exported["mobilenet_v3_small_like"]
    graph = from_onnx(onnx.load(path), name="mbv3")
    assert graph.name == "mbv3"
    assert_same(graph, from_onnx(path))


class Assorted(nn.Module):
    """Ops the example models lack: fused activations, a learned scale, resampling, padding, a
    9x9 average pool, and element-wise ops between two graph tensors."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=2, dilation=2)
        self.group = nn.Conv2d(8, 8, 3, 2, 1, groups=2, bias=False)
        self.scale = nn.Parameter(torch.ones(1, 8, 1, 1))
        self.act = nn.SiLU()
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        x = F.relu6(self.conv(x))
        y = self.act(self.group(x)) * self.scale
        y = F.interpolate(y, scale_factor=2.0, mode="nearest")
        z = torch.tanh(x) * torch.sigmoid(x) - F.leaky_relu(x) / (1 + F.hardsigmoid(x))
        y = F.pad(y, (1, 1, 1, 1)) + F.pad(z, (1, 1, 1, 1))
        y = y * torch.sigmoid(y)
        return self.fc(torch.flatten(F.avg_pool2d(y, 9), 1))


def test_assorted_ops_match_from_torch(tmp_path):
    model = Assorted()
    graph = from_onnx(export(model, (3, 16, 16), tmp_path / "m.onnx"))
    assert graph.ops.count("swish") == 2 and "relu6" in graph.ops and "upsample" in graph.ops
    assert_same(graph, from_torch(model, (3, 16, 16)))


# ---------------------------------------------------------------------------- bad input
def test_missing_file(tmp_path):
    with pytest.raises(ConversionError, match="no ONNX file at .*nothing.onnx"):
        from_onnx(tmp_path / "nothing.onnx")


def test_corrupt_file(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(ConversionError, match="junk.onnx"):
        from_onnx(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_file(exported, tmp_path, fraction):
    data = exported["resnet_small"][2].read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(ConversionError, match="cut.onnx"):
        from_onnx(path)


def test_dynamic_height_and_width_need_input_shape(tmp_path):
    torch.manual_seed(0)
    model, shape = example("resnet_small")
    path = export(model, shape, tmp_path / "dyn.onnx", input_names=["image"],
                  dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}})
    with pytest.raises(ConversionError, match=r"'image' has dynamic dims \(batch, 3, height, width\).*input_shape"):
        from_onnx(path)
    with pytest.raises(ConversionError, match="input_shape=.* has 2 dims instead of 3"):
        from_onnx(path, input_shape=(32, 32))
    assert_same(from_onnx(path, input_shape=shape), from_torch(model, shape))


def tiny_model(op: onnx.NodeProto, opsets=(("", 17),)) -> onnx.ModelProto:
    """x (1, 4, 8, 8) -> Relu -> ``op`` -> output."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="relu"), op], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])


def test_unknown_op_is_oov_or_raises_in_strict_mode():
    model = tiny_model(helper.make_node("Einsum", ["r"], ["y"], name="swap", equation="bchw->bcwh"))
    graph = from_onnx(model)
    assert graph.ops == ["input", "relu", "Einsum", "output"] and graph.oov_ops == ["Einsum"]
    with pytest.raises(UnsupportedOpError, match="'Einsum'.*'swap'"):
        from_onnx(model, strict=True)


def test_custom_domain_op_in_strict_mode():
    op = helper.make_node("Frobnicate", ["r"], ["y"], name="frob_1", domain="com.example")
    with pytest.raises(UnsupportedOpError, match="'Frobnicate'.*'frob_1'"):
        from_onnx(tiny_model(op, opsets=(("", 17), ("com.example", 1))), strict=True)


def test_model_without_input():
    value = numpy_helper.from_array(np.ones((1, 4), np.float32), "c")
    graph = helper.make_graph([helper.make_node("Relu", ["c"], ["y"])], "const", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [value])
    with pytest.raises(ConversionError, match="no graph input"):
        from_onnx(helper.make_model(graph))


def test_custom_op_without_known_shape():
    op = helper.make_node("Frobnicate", ["r"], ["y"], name="frob_1", domain="com.example")
    with pytest.raises(ConversionError, match="shape of 'y'.*'frob_1' \\(Frobnicate\\)"):
        from_onnx(tiny_model(op, opsets=(("", 17), ("com.example", 1))))


def test_tensor_read_before_it_is_produced():
    model = tiny_model(helper.make_node("Add", ["r", "nowhere"], ["y"], name="add_1"))
    with pytest.raises(ConversionError, match="'add_1'.*reads tensor 'nowhere' before it is produced"):
        from_onnx(model)
