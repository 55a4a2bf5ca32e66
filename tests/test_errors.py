"""Bad input, one case each: from Python a GennapeError subclass that names the problem (the op, the
file, the row or index), on the command line one line and exit code 2, never a traceback."""

from __future__ import annotations

import json
import random
import shutil
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from safetensors.torch import load_file, save_file
from torch import nn
from typer.testing import CliRunner

from gennape.cli import app
from gennape.errors import ConversionError, EstimatorError, GraphError, LabelError
from gennape.estimator import WEIGHTS_DIR, Estimator, SeedEnsemble, load_estimator
from gennape.families.nb201 import NB201Family
from gennape.graph import ComputeGraph, from_onnx, from_torch, load_graphs
from gennape.graph.checks import MAX_INPUT_ELEMENTS
from gennape.training.labels import DuplicateGraphWarning, check_labels, same_networks

runner = CliRunner()


def one_error_line(result, expected: str) -> str:
    """The command failed with exit code 2 and a message, not a traceback; returns its output."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output, repr(result.exception)
    assert expected in result.output, result.output
    return result.output


def conv_model(dims) -> onnx.ModelProto:
    """x (``dims``: batch, C = 3, H, W; ints or symbols) -> 3x3 conv to 4 channels -> y."""
    weight = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1])],
                              "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


STATIC, DYNAMIC = conv_model([1, 3, 8, 8]), conv_model(["N", 3, "H", "W"])


@pytest.fixture(scope="module")
def cells():
    """Four NB-201 graphs, the last equal to the first (a separate object)."""
    family = NB201Family()
    specs = [family.sample(random.Random(i)) for i in range(3)]
    return [family.to_graph(s) for s in [*specs, specs[0]]]


@pytest.fixture(scope="module")
def est():
    return load_estimator()


# ---------------------------------------------------------------------------- 1. input shapes
@pytest.mark.parametrize("shape, message", [((3, 0, 224), r"non-positive dimension \(0\)"),
                                            ((3, -1, 1), r"non-positive dimension \(-1\)"),
                                            ((99999, 99999, 99999), f"more than the {MAX_INPUT_ELEMENTS:,}")])
def test_input_shape_must_be_positive_and_of_sane_size(shape, message):
    with pytest.raises(ConversionError, match=message):
        from_onnx(DYNAMIC, input_shape=shape)
    with pytest.raises(ConversionError, match=message):
        from_torch(nn.Conv2d(3, 4, 3), shape)


def test_a_static_onnx_model_is_never_resized_and_keeps_its_channels():
    with pytest.raises(ConversionError, match="asks for H=16 where the model has 8, W=16 where the model has 8"):
        from_onnx(STATIC, input_shape=(3, 16, 16))
    with pytest.raises(ConversionError, match="asks for C=4 where the model has 3"):
        from_onnx(STATIC, input_shape=(4, 8, 8))
    with pytest.raises(ConversionError, match="asks for C=4 where the model has 3"):
        from_onnx(DYNAMIC, input_shape=(4, 8, 8))  # H, W are free, the channels are not
    assert from_onnx(STATIC, input_shape=(3, 8, 8)) == from_onnx(STATIC)
    assert from_onnx(DYNAMIC, input_shape=(3, 16, 16)).flops == 4 * 3 * 9 * 16 * 16


@pytest.mark.parametrize("shape, message", [("3,0,224", "non-positive dimension (0)"),
                                            ("99999,99999,99999", "300,000,000"), ("3,x", "not a shape")])
def test_cli_refuses_a_bad_input_shape_in_one_line(shape, message, tmp_path):
    onnx.save(DYNAMIC, tmp_path / "m.onnx")
    for command in ("convert", "predict"):
        output = one_error_line(runner.invoke(app, [command, str(tmp_path / "m.onnx"), "--input-shape", shape]),
                                message)
        assert output.startswith("error: --input-shape") and len(output.splitlines()) == 1


def test_cli_names_the_static_model_an_input_shape_disagrees_with(tmp_path):
    onnx.save(STATIC, tmp_path / "m.onnx")
    output = one_error_line(runner.invoke(app, ["convert", str(tmp_path / "m.onnx"), "--input-shape", "3,16,16"]),
                            "never resized")
    assert output.startswith(f"{tmp_path / 'm.onnx'}: input 'x' declares dims (1, 3, 8, 8)")


# ---------------------------------------------------------------------------- 2. labels
@pytest.mark.parametrize("acc, message", [
    ([0.9, 0.8, 0.7], r"at most 1: give percentages \(0-100\), not fractions"),
    ([90.0, 150.0, 70.0], r"accuracies_percent\[1\]: accuracy 150 is not a percentage between 0 and 100"),
    ([90.0, np.nan, 70.0], r"accuracies_percent\[1\]: accuracy nan is not a finite number"),
    ([90.0, 90.0, 90.0], "every accuracy in accuracies_percent is 90: .* two different accuracies"),
    (["high", 80, 70], "must be numbers")])
def test_fine_tune_refuses_bad_labels_before_training(est, cells, acc, message):
    with pytest.raises(LabelError, match=message):
        est.fine_tune(cells[:3], acc, epochs=1)
    with pytest.raises(LabelError, match=message):
        SeedEnsemble([est]).fine_tune(cells[:3], acc, epochs=1)


def test_fine_tune_refuses_one_graph_object_twice_and_warns_of_equal_graphs(est, cells):
    with pytest.raises(LabelError, match="graphs 0 and 3 are the same ComputeGraph object"):
        est.fine_tune([*cells[:3], cells[0]], [90.0, 80.0, 70.0, 60.0], epochs=1)
    assert same_networks(cells) == [[0, 3]] and same_networks(cells[:3]) == []
    with pytest.warns(DuplicateGraphWarning, match=r"graphs 0 and 3 are equal \(the same network\)"):
        acc = check_labels(cells, [90.0, 80.0, 70.0, 60.0])
    assert acc.dtype == np.float64 and acc.tolist() == [90.0, 80.0, 70.0, 60.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # distinct networks: no warning
        check_labels(cells[:3], [90.0, 80.0, 70.0])


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, cells):
    folder = tmp_path_factory.mktemp("labelled")
    for i, g in enumerate(cells):
        g.save(folder / f"cell{i}.npz")
    return folder


def test_cli_refuses_identical_labels_and_repeated_rows(labelled, tmp_path):
    same = labelled / "same.csv"
    same.write_text("model,accuracy\ncell0.npz,90\ncell1.npz,90\ncell2.npz,90\n")
    one_error_line(runner.invoke(app, ["fine-tune", str(same), "--out", str(tmp_path / "a")]),
                   f"error: every accuracy in {same} is 90")
    repeated = labelled / "repeated.csv"
    repeated.write_text("model,accuracy\ncell0.npz,90\ncell1.npz,80\n./cell0.npz,70\n")
    output = one_error_line(runner.invoke(app, ["fine-tune", str(repeated), "--out", str(tmp_path / "b")]),
                            f"{repeated}:4: ./cell0.npz is also on {repeated}:2; list each model once")
    assert "1 of the 3 rows" in output and not (tmp_path / "b").exists()


def test_cli_warns_of_rows_whose_files_hold_the_same_network(labelled, tmp_path):
    labels = labelled / "equal.csv"
    labels.write_text("model,accuracy\ncell0.npz,90\ncell1.npz,80\ncell3.npz,85\n")
    # a missing estimator stops the command after the labels are read: nothing is trained here
    result = runner.invoke(app, ["fine-tune", str(labels), "--out", str(tmp_path / "t"), "--estimator",
                                 str(tmp_path / "nowhere")])
    output = one_error_line(result, "neither a shipped estimator")
    assert f"warning: {labels}:2 (cell0.npz) and {labels}:4 (cell3.npz) are the same network" in output


# ---------------------------------------------------------------------------- 3a. graph files
def tampered(path, good, **changes):
    """``good`` (a graph file) with arrays replaced (None: removed) as ``changes`` say, saved to ``path``."""
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    for key, value in changes.items():
        arrays.pop(key) if value is None else arrays.__setitem__(key, value)
    np.savez(path, **arrays)
    return path


def header(**fields):
    return np.frombuffer(json.dumps({"format": 1, "vocab": 1, **fields}).encode(), np.uint8)


@pytest.mark.parametrize("changes, message", [
    (dict(macs=None), r"lacks the array\(s\) macs"),
    (dict(node_offsets=None), r"lacks the array\(s\) node_offsets"),
    (dict(header=header(names=["a"])), "one name and one out-of-vocabulary table per graph"),
    (dict(header=header(names=["a", "b"], oov=[{}, {}])), "node_offsets .* do not split"),
    (dict(node_offsets=np.array([0, 10**6])), "node_offsets .* do not split"),
    (dict(op_ids=np.zeros(3, np.float32)), "'op_ids' holds float32 values"),
    (dict(macs=np.zeros(2, np.int64)), "node arrays differ in length"),
    (dict(op_ids=np.full(3, 999, np.int16)), r"graph 0 \('tiny'\) is damaged: op ids must lie in"),
    (dict(macs=np.array([0, -5, 0])), r"graph 'tiny' has negative MACs \(-5\) at node 1 \(conv\)")])
def test_damaged_graph_files_name_the_file_and_the_problem(tmp_path, changes, message):
    good = tmp_path / "good.npz"
    from_onnx(conv_model([1, 3, 8, 8]), name="tiny").save(good)
    bad = tampered(tmp_path / "bad.npz", good, **changes)
    with pytest.raises(GraphError, match=f"bad.npz.*{message}"):
        load_graphs(bad)
    one_error_line(runner.invoke(app, ["info", str(bad)]), "error: ")


# ---------------------------------------------------------------------------- 3b. estimator files
def damage(folder, how: str) -> None:
    path = folder / "estimator.safetensors"
    tensors = load_file(path)
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
        return
    key = sorted(k for k in tensors if k.startswith("encoder.") and tensors[k].ndim == 2)[0]
    if how == "missing":
        del tensors[key]
    else:
        tensors[key] = tensors[key][:, :-1].contiguous()
    save_file(tensors, path)


@pytest.mark.parametrize("how, message", [("truncated", "is damaged"), ("missing", "Missing key"),
                                          ("mis-shaped", "size mismatch")])
def test_a_damaged_estimator_file_is_named(tmp_path, how, message):
    folder = tmp_path / "est"
    folder.mkdir()
    for name in ("estimator.json", "estimator.safetensors"):
        shutil.copy(WEIGHTS_DIR / name, folder / name)
    damage(folder, how)
    with pytest.raises(EstimatorError, match=f"estimator.safetensors .*{message}"):
        Estimator.load(folder)
    graph = tmp_path / "g.npz"
    from_onnx(STATIC).save(graph)
    output = one_error_line(runner.invoke(app, ["predict", str(graph), "--estimator", str(folder)]), message)
    assert output.startswith("error: ") and len(output.splitlines()) == 1


# ---------------------------------------------------------------------------- 3c. convert --out a file
def test_convert_refuses_an_out_that_is_a_file(tmp_path):
    onnx.save(STATIC, tmp_path / "m.onnx")
    (tmp_path / "taken").write_text("")
    one_error_line(runner.invoke(app, ["convert", str(tmp_path / "m.onnx"), "--out", str(tmp_path / "taken")]),
                   "is a file; name a folder")


# ---------------------------------------------------------------------------- 3d, e. what predict takes
def test_predict_refuses_negative_macs_naming_the_graph(est, cells, tmp_path):
    bad = ComputeGraph(**{k: getattr(cells[1], k) for k in ("op_ids", "shapes", "kernels", "strides", "dilations",
                                                            "groups", "bias", "param_counts", "edges")},
                       macs=-cells[1].macs, name="tampered")
    with pytest.raises(GraphError, match=r"graphs\[1\]: graph 'tampered' has negative MACs"):
        est.predict([cells[0], bad])
    with pytest.raises(GraphError, match="negative MACs"):
        est.fine_tune([cells[0], bad, cells[2]], [90.0, 80.0, 70.0], epochs=1)
    bad.save(tmp_path / "tampered.npz")  # a file with such a graph is refused when read
    output = one_error_line(runner.invoke(app, ["predict", str(tmp_path / "tampered.npz")]),
                            f"{tmp_path / 'tampered.npz'}: graph 'tampered' has negative MACs")
    assert output.splitlines()[-1].startswith("error: no model could be read")


def test_predict_wants_a_list_of_graphs(est, cells):
    with pytest.raises(GraphError, match=r"pass a list of graphs, e.g. \[graph\], not one ComputeGraph"):
        est.predict(cells[0])
    with pytest.raises(GraphError, match=r"graphs\[0\] is a str, not a ComputeGraph"):
        est.predict_accuracy(["model.onnx"])
    assert est.predict(iter(cells)).shape == (4,)  # any iterable of graphs


# ---------------------------------------------------------------------------- 3f. from_onnx(bytes)
def test_from_onnx_reads_bytes_and_names_what_it_cannot_read():
    assert from_onnx(STATIC.SerializeToString()) == from_onnx(STATIC)
    with pytest.raises(ConversionError, match="bytes given are not a readable ONNX model"):
        from_onnx(b"\x08\x07garbage")
    with pytest.raises(ConversionError, match="expects a file path, an onnx.ModelProto or the bytes of a model, "
                                              "got int"):
        from_onnx(123)
