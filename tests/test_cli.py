"""The command line, driven as a user would: real models, a folder with a broken file."""

from collections import Counter

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gennape.cli import app
from gennape.examples.models import example
from gennape.graph import from_onnx

runner = CliRunner()


@pytest.fixture(scope="module")
def onnx_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    for name in ("resnet_small", "vit_tiny"):
        model, shape = example(name)
        torch.onnx.export(model.train(), torch.randn(1, *shape), folder / f"{name}.onnx", dynamo=False,
                          do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, opset_version=17)
    (folder / "broken.onnx").write_bytes(b"\x08\x07garbage")
    return folder


def test_demo_converts_and_scores_every_example():
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "resnet50" in result.output and "4,089.2" in result.output  # ResNet-50: 4.09 G multiply-adds
    assert len(lines) == 1 + 7


def test_convert_writes_graphs_and_names_the_broken_file(onnx_folder, tmp_path):
    result = runner.invoke(app, ["convert", str(onnx_folder), "--out", str(tmp_path)])
    assert result.exit_code == 2  # one file failed
    assert "broken.onnx" in result.output and "not a readable ONNX model" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resnet_small.npz", "vit_tiny.npz"]
    info = runner.invoke(app, ["info", str(tmp_path / "vit_tiny.npz")])
    assert info.exit_code == 0 and info.output.startswith("vit_tiny:")


def test_predict_ranks_models_best_first(onnx_folder, tmp_path):
    from_onnx(onnx_folder / "resnet_small.onnx", name="saved").save(tmp_path / "saved.npz")
    result = runner.invoke(app, ["predict", str(onnx_folder / "resnet_small.onnx"),
                                 str(onnx_folder / "vit_tiny.onnx"), str(tmp_path / "saved.npz")])
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()[1:]
    scores = [float(r.split()[4]) for r in rows]
    assert len(rows) == 3 and scores == sorted(scores, reverse=True)


def test_missing_input_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["convert", str(tmp_path)])
    assert result.exit_code == 2 and "no .onnx files" in result.output


def test_demo_with_the_seed_ensemble_and_a_bad_estimator_name(tmp_path):
    result = runner.invoke(app, ["demo", "--estimator", "gennape_seeds"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 1 + 7
    result = runner.invoke(app, ["demo", "--estimator", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "neither a shipped estimator" in result.output


def test_the_preset_help_names_every_training_variant():
    from gennape.training import PRESETS

    result = CliRunner().invoke(app, ["train", "--help"], terminal_width=400)
    variants = [p for p in PRESETS.names() if p not in ("default", "quick")]
    assert len(variants) >= 5 and all(p in result.output for p in variants)


def test_predict_marks_a_network_that_computes_a_constant(tmp_path):
    from gennape.families.nb201 import NB201Family, NB201Spec

    family = NB201Family()
    for name, cell in (("constant", "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|"),
                       ("working", "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|none~1|none~2|")):
        g = family.to_graph(NB201Spec.parse(cell))
        g.name = name
        g.save(tmp_path / f"{name}.npz")
    result = runner.invoke(app, ["predict", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()
    assert rows[1].startswith("working ") and rows[2].startswith("constant") and rows[2].split()[1] == "*"
    assert float(rows[2].split()[6]) == 10.0  # chance on NB-201's 10 classes
    assert "output does not depend on its input" in rows[3]


@pytest.fixture(scope="module")
def labelled_cells(tmp_path_factory):
    """Eight NB-201 cells saved as graphs, two of them computing a constant, and a labels CSV."""
    from gennape.families.nb201 import NB201Family, NB201Spec

    folder = tmp_path_factory.mktemp("labelled")
    family = NB201Family()
    cells = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
             "|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_3x3~0|none~1|none~2|",
             "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
             "|skip_connect~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
             "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
             "|avg_pool_3x3~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|",
             "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|",  # constant
             "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]  # constant
    accuracies = [93.1, 91.0, 85.2, 60.3, 94.0, 70.4, 26.0, 27.0]
    lines = ["model,accuracy"]
    for i, (cell, acc) in enumerate(zip(cells, accuracies)):
        graph = family.to_graph(NB201Spec.parse(cell))
        graph.name = f"cell{i}"
        graph.save(folder / f"cell{i}.npz")
        lines.append(f"cell{i}.npz,{acc}")
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_fine_tune_saves_an_estimator_that_predict_reads(labelled_cells, tmp_path):
    out = tmp_path / "tuned"
    result = runner.invoke(app, ["fine-tune", str(labelled_cells / "labels.csv"), "--out", str(out),
                                 "--epochs", "2"])
    assert result.exit_code == 0, result.output
    assert "Kendall tau" in result.output and "predicted at 26.50 %" in result.output
    from gennape.estimator import ENSEMBLE, Estimator

    tuned = Estimator.load(out)
    assert tuned.info["fine_tuned"]["samples"] == 8 and tuned.constant_accuracy == 26.5
    assert set(tuned.weights) == set(ENSEMBLE) and np.isclose(sum(tuned.weights.values()), 1.0)
    scored = runner.invoke(app, ["predict", str(labelled_cells), "--estimator", str(out)])
    assert scored.exit_code == 0, scored.output
    constant_rows = [r for r in scored.output.splitlines() if r.startswith(("cell6", "cell7"))]
    assert [float(r.split()[6]) for r in constant_rows] == [26.5, 26.5]  # the samples' label, not 10 %


def test_fine_tune_reports_every_bad_row_and_writes_nothing(labelled_cells, tmp_path):
    bad = tmp_path / "labels.csv"
    bad.write_text(f"model,accuracy\n{labelled_cells / 'cell0.npz'},93.1\n{labelled_cells / 'cell1.npz'},"
                   f"high\nmissing.npz,80\n{labelled_cells / 'cell2.npz'},120\n")
    out = tmp_path / "tuned"
    result = runner.invoke(app, ["fine-tune", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert f"{bad}:3: accuracy 'high' is not a number" in result.output
    assert f"{bad}:4: no graph file at" in result.output and "missing.npz" in result.output
    assert f"{bad}:5: accuracy 120 is not a percentage" in result.output
    assert "3 of the 4 rows" in result.output


def test_fine_tune_refuses_fractions_and_a_file_without_the_columns(labelled_cells, tmp_path):
    fractions = tmp_path / "fractions.csv"
    fractions.write_text("".join(f"{'model,accuracy' if i < 0 else f'{labelled_cells}/cell{i}.npz,0.9'}\n"
                                 for i in range(-1, 3)))
    result = runner.invoke(app, ["fine-tune", str(fractions), "--out", str(tmp_path / "a")])
    assert result.exit_code == 2 and "not fractions" in result.output
    headless = tmp_path / "headless.csv"
    headless.write_text(f"{labelled_cells}/cell0.npz,93.1\n")
    result = runner.invoke(app, ["fine-tune", str(headless), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "columns model,accuracy" in result.output
    result = runner.invoke(app, ["fine-tune", str(tmp_path / "none.csv"), "--out", str(tmp_path / "c")])
    assert result.exit_code == 2 and "no labels file" in result.output


# ------------------------------------------------------------------ --format csv | json (for scripts)
@pytest.fixture(scope="module")
def saved_cells(tmp_path_factory):
    """Three NB-201 networks in two graph files (one holding two), the last computing a constant."""
    from gennape.families.nb201 import NB201Family, NB201Spec
    from gennape.graph import save_graphs

    folder, family = tmp_path_factory.mktemp("cells"), NB201Family()
    graphs = []
    for name, cell in (("good",
                        "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"),
                       ("pools", "|avg_pool_3x3~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|"),
                       ("constant", "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|")):
        graphs.append(family.to_graph(NB201Spec.parse(cell)))
        graphs[-1].name = name
    graphs[0].save(folder / "a.npz")
    save_graphs(folder / "b.npz", graphs[1:])
    return folder, {g.name: g for g in graphs}


def _check_predict_records(records: list[dict], graphs: dict, folder) -> None:
    assert [r["model"] for r in records] == ["good", "pools", "constant"]  # best first, the constant last
    assert [int(r["rank"]) for r in records] == [1, 2, 3]
    assert [(r["file"], int(r["graph_index"])) for r in records] == [
        (str(folder / "a.npz"), 0), (str(folder / "b.npz"), 0), (str(folder / "b.npz"), 1)]
    for r in records:
        g = graphs[r["model"]]
        assert (int(r["nodes"]), int(r["macs"]), int(r["params"])) == (g.num_nodes, g.flops, g.params)
    scores = [float(r["score_within_call"]) for r in records]
    assert scores == sorted(scores, reverse=True)
    assert float(records[2]["accuracy_percent_nb101_cifar10"]) == 10.0  # chance on 10 classes


def test_predict_writes_csv_and_json_records_that_read_back(saved_cells):
    import csv
    import io
    import json

    folder, graphs = saved_cells
    table = runner.invoke(app, ["predict", str(folder)])
    as_csv = runner.invoke(app, ["predict", str(folder), "--format", "csv"])
    as_json = runner.invoke(app, ["predict", str(folder), "--format", "json"])
    assert table.exit_code == as_csv.exit_code == as_json.exit_code == 0, as_json.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    records = json.loads(as_json.stdout)
    _check_predict_records(rows, graphs, folder)
    _check_predict_records(records, graphs, folder)
    assert [r["constant_output"] for r in rows] == ["false", "false", "true"]
    assert [r["constant_output"] for r in records] == [False, False, True]
    assert records[0]["oov_ops"] == [] and rows[0]["oov_ops"] == ""
    assert [float(r["score_within_call"]) for r in rows] == [r["score_within_call"] for r in records]  # exact
    # the table shows the same scores, rounded
    table_scores = [float(line[58:66]) for line in table.stdout.splitlines()[1:4]]  # the score column
    assert np.allclose(table_scores, [r["score_within_call"] for r in records], atol=0.005)
    assert "*" not in as_csv.stdout.splitlines()[-1] and not as_json.stderr


def test_predict_csv_keeps_errors_off_standard_output(saved_cells, tmp_path):
    import csv
    import io

    folder, _ = saved_cells
    (tmp_path / "bad.npz").write_bytes(b"not a graph file")
    result = runner.invoke(app, ["predict", str(folder / "a.npz"), str(tmp_path / "bad.npz"), "--format", "csv"])
    assert result.exit_code == 2  # one file failed, as with the table
    assert [r["model"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["good"]
    assert "bad.npz" in result.stderr and "bad.npz" not in result.stdout
    result = runner.invoke(app, ["predict", str(folder), "--format", "yaml"])
    assert result.exit_code == 2 and result.stderr.strip() == "error: --format 'yaml': choose one of table, csv, json"


def test_convert_writes_csv_and_json_records_that_read_back(onnx_folder, tmp_path):
    import csv
    import io
    import json

    expected = {name: from_onnx(onnx_folder / f"{name}.onnx", name=name) for name in ("resnet_small", "vit_tiny")}
    as_csv = runner.invoke(app, ["convert", str(onnx_folder), "--format", "csv", "--out", str(tmp_path)])
    as_json = runner.invoke(app, ["convert", str(onnx_folder), "--format", "json"])
    assert as_csv.exit_code == as_json.exit_code == 2  # broken.onnx, named on standard error only
    assert "broken.onnx" in as_csv.stderr and "broken.onnx" not in as_csv.stdout + as_json.stdout
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    records = json.loads(as_json.stdout)
    assert [r["model"] for r in rows] == [r["model"] for r in records] == ["resnet_small", "vit_tiny"]
    for row, record in zip(rows, records):
        g = expected[record["model"]]
        for key, value in (("nodes", g.num_nodes), ("edges", g.num_edges), ("macs", g.flops), ("params", g.params)):
            assert int(row[key]) == record[key] == value
        counts = dict(item.split("=") for item in row["op_counts"].split(";"))
        assert {op: int(n) for op, n in counts.items()} == record["op_counts"] == dict(Counter(g.ops))
        assert record["oov_ops"] == g.oov_ops and record["saved_to"] is None
        assert record["file"] == row["file"] == str(onnx_folder / f"{record['model']}.onnx")
        assert row["saved_to"] == str(tmp_path / f"{record['model']}.npz")
        assert from_onnx(record["file"]) == type(g).load(row["saved_to"])
