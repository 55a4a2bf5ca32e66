"""Pictures of computation graphs (gennape.graph.draw) and ``gennape draw``: valid SVG and PNG files,
out-of-vocabulary ops marked, big graphs paginated with every node once, one-line errors."""

import random
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from typer.testing import CliRunner

from gennape.cli import app
from gennape.families import get
from gennape.graph import GraphBuilder, save_graphs
from gennape.graph.draw import OOV_COLOUR, PAGE_NODES, draw, node_label
from gennape.graph.layout import _isotonic, layout, node_layers

runner = CliRunner()
NB201_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"


def small_graph(oov: bool = False):
    """input -> conv 3x3/2 -> relu -> (an unknown op or a 1x1 conv) -> add (residual) -> output."""
    b = GraphBuilder("small")
    x = b.relu(b.conv(b.input((3, 16, 16)), 8, 3, stride=2))
    y = b.add_node("MyWeirdOp", [x], (8, 8, 8)) if oov else b.conv(x, 8, 1)
    b.output(b.add(y, x))
    return b.build()


@pytest.fixture(scope="module")
def big_graph():
    family = get("ofa_mbv3")
    g = family.to_graph(family.sample(random.Random(0)))  # a few hundred nodes
    assert 150 < g.num_nodes < 400
    return g


def _svg_text(path) -> str:
    root = ET.parse(path).getroot()  # valid XML
    assert root.tag.endswith("svg")
    return path.read_text()


def test_a_small_graph_draws_as_one_svg_with_every_label(tmp_path):
    g = small_graph()
    written = draw(g, tmp_path / "small.svg")
    assert written == [tmp_path / "small.svg"]
    text = _svg_text(written[0])
    assert node_label(g, 1) == ("conv 3x3 /2", "8 x 8 x 8")
    for v in range(g.num_nodes):
        op, shape = node_label(g, v)
        assert op in text and shape in text and f"#{v}" in text
    assert OOV_COLOUR not in text


def test_a_png_is_a_readable_image(tmp_path):
    from matplotlib.image import imread

    path = draw(small_graph(), tmp_path / "small.png")[0]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[0] > image.shape[1] > 100  # top to bottom: taller than wide


def test_an_out_of_vocabulary_op_is_red_with_its_original_name(tmp_path):
    text = _svg_text(draw(small_graph(oov=True), tmp_path / "oov.svg")[0])
    assert "oov: MyWeirdOp" in text and OOV_COLOUR in text and "out-of-vocabulary" in text


def test_a_big_graph_is_paginated_with_every_node_and_edge_once(big_graph, tmp_path):
    pages = layout(big_graph, PAGE_NODES, lambda item: 1.0)
    nodes = [v for p in pages for v in p.nodes]
    assert sorted(nodes) == list(range(big_graph.num_nodes))  # every node on exactly one page
    assert len(pages) > 1 and all(len(p.nodes) <= PAGE_NODES for p in pages)
    page_of = {v: p.number for p in pages for v in p.nodes}
    inside = sum(page_of[s] == page_of[d] for s, d in big_graph.edges.tolist())
    crossing = [(s, d) for s, d in big_graph.edges.tolist() if page_of[s] != page_of[d]]
    for p in pages:  # an edge inside a page is drawn there; one that crosses pages, as two stubs
        assert sum(p.items[path[0]].kind == "node" and p.items[path[-1]].kind == "node" for path in p.paths) == \
            sum(page_of[s] == page_of[d] == p.number for s, d in big_graph.edges.tolist())
        stubs_in = {it.node for it in p.items if it.kind == "in"}
        stubs_out = {it.node for it in p.items if it.kind == "out"}
        assert stubs_in == {s for s, d in crossing if page_of[d] == p.number}
        assert stubs_out == {s for s, d in crossing if page_of[s] == p.number}
    assert inside + len(crossing) == big_graph.num_edges
    written = draw(big_graph, tmp_path / "big.svg")
    assert written == [tmp_path / f"big-{k}.svg" for k in range(1, len(pages) + 1)]
    assert not (tmp_path / "big.svg").exists()
    assert all("page" in _svg_text(path) for path in written)
    assert draw(big_graph, tmp_path / "whole.svg", page_nodes=1000) == [tmp_path / "whole.svg"]


def test_boxes_in_a_layer_never_overlap_and_layers_run_top_to_bottom(big_graph):
    for page in layout(big_graph, PAGE_NODES, lambda item: 1.5 if item.kind == "node" else 0.1):
        by_layer = {}
        for it in page.items:
            by_layer.setdefault(it.layer, []).append(it)
        for items in by_layer.values():
            items.sort(key=lambda it: it.x)
            for a, b in zip(items, items[1:]):
                assert b.x - a.x >= (a.width + b.width) / 2 + 0.3 - 1e-9
    layers = node_layers(big_graph)
    assert all(layers[s] < layers[d] for s, d in big_graph.edges.tolist())


def test_isotonic_regression_is_the_nearest_non_decreasing_sequence():
    assert np.allclose(_isotonic(np.array([1.0, 3.0, 2.0, 4.0, 0.0])), [1.0, 2.25, 2.25, 2.25, 2.25])
    assert np.allclose(_isotonic(np.array([0.0, 1.0, 2.0])), [0.0, 1.0, 2.0])


# ------------------------------------------------------------------ gennape draw
def _one_error_line(result, *needles) -> None:
    assert result.exit_code == 2, result.output
    assert not result.stdout and result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert all(n in result.stderr for n in needles), result.stderr


def test_draw_a_family_spec_and_a_graph_file(tmp_path):
    result = runner.invoke(app, ["draw", NB201_CELL, "--family", "nb201", "--out", str(tmp_path / "cell.svg")])
    assert result.exit_code == 0, result.output
    written = result.stdout.split()
    assert len(written) > 1 and all(w.endswith(".svg") for w in written)  # NB-201's 200-odd nodes: pages
    name, text = f"nb201:{NB201_CELL}", _svg_text(tmp_path / "cell-1.svg")
    assert name[:64] in text and name[64:] in text  # the heading: the spec, in lines of 64 characters
    save_graphs(tmp_path / "two.npz", [small_graph(), small_graph(oov=True)])
    result = runner.invoke(app, ["draw", str(tmp_path / "two.npz"), "--index", "1", "--out", str(tmp_path / "b.png")])
    assert result.exit_code == 0 and result.stdout.strip() == str(tmp_path / "b.png")
    _one_error_line(runner.invoke(app, ["draw", str(tmp_path / "two.npz"), "--out", str(tmp_path / "c.svg")]),
                    "holds 2 graphs", "--index")
    _one_error_line(runner.invoke(app, ["draw", str(tmp_path / "two.npz"), "--index", "2", "--out",
                                        str(tmp_path / "c.svg")]), "--index 2")


def test_draw_an_onnx_file(tmp_path):
    import torch

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    torch.onnx.export(model, torch.randn(1, 3, 8, 8), tmp_path / "tiny.onnx", dynamo=False)
    result = runner.invoke(app, ["draw", str(tmp_path / "tiny.onnx"), "--out", str(tmp_path / "tiny.svg")])
    assert result.exit_code == 0, result.output
    assert "conv 3x3" in _svg_text(tmp_path / "tiny.svg")


def test_draw_refuses_bad_input_in_one_line(tmp_path):
    save_graphs(tmp_path / "g.npz", [small_graph()])
    good = str(tmp_path / "g.npz")
    _one_error_line(runner.invoke(app, ["draw", good, "--out", str(tmp_path / "g.jpg")]), "g.jpg", ".svg or .png")
    _one_error_line(runner.invoke(app, ["draw", str(tmp_path / "none.onnx"), "--out", str(tmp_path / "a.svg")]),
                    "no file at", "none.onnx")
    _one_error_line(runner.invoke(app, ["draw", "|bad|", "--family", "nb201", "--out", str(tmp_path / "a.svg")]),
                    "NB-201")
    _one_error_line(runner.invoke(app, ["draw", "x", "--family", "nope", "--out", str(tmp_path / "a.svg")]),
                    "unknown family 'nope'", "nb201")
    (tmp_path / "notes.txt").write_text("hello")
    _one_error_line(runner.invoke(app, ["draw", str(tmp_path / "notes.txt"), "--out", str(tmp_path / "a.svg")]),
                    ".txt", ".onnx or .npz")
    assert not list(tmp_path.glob("a*.svg"))
