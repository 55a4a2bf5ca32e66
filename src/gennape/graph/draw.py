"""Pictures of computation graphs: :func:`draw` writes a graph top to bottom as SVG or PNG, with
matplotlib (no Graphviz) and the layered layout of :mod:`.layout`.

Each node is a box holding its op (with kernel, stride, groups and dilation where it has them) and
its output shape H x W x C; its index ``#i`` stands at its top left. Boxes are coloured by kind of
op; an out-of-vocabulary op is red, labelled ``oov: <its original name>``. A graph of more than
``page_nodes`` nodes (default :data:`PAGE_NODES`) is paginated: ``net.svg`` becomes ``net-1.svg``,
``net-2.svg``, ..., cut between layers, every node drawn once and every edge that crosses pages
drawn as a pair of stubs naming the node and page at its other end.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import GennapeError
from .compute_graph import ComputeGraph
from .layout import Item, Page, layout
from .ops import OPS

#: the formats :func:`draw` writes, by file extension
FORMATS = (".svg", ".png")
#: at most this many nodes per picture; larger graphs are paginated
PAGE_NODES = 60

ROW = 0.78  # inches between layers
BOX_H = 0.42  # inches, a node's box
FONT = 7.5  # points
CHAR_W = 0.062  # inches, a label character at FONT (DejaVu Sans, on average)
OOV_COLOUR = "#d62728"
_COLOURS = {  # kind of op -> fill
    "conv": "#aec7e8", "group_conv": "#aec7e8", "depthwise": "#9edae5", "linear": "#c5b0d5",
    "matmul": "#c5b0d5", "batchnorm": "#e0e0e0", "layernorm": "#e0e0e0", "groupnorm": "#e0e0e0",
    "relu": "#b5e6a5", "relu6": "#b5e6a5", "leaky_relu": "#b5e6a5", "sigmoid": "#b5e6a5", "tanh": "#b5e6a5",
    "swish": "#b5e6a5", "hardswish": "#b5e6a5", "hardsigmoid": "#b5e6a5", "gelu": "#b5e6a5",
    "softmax": "#b5e6a5", "add": "#ffdd99", "sub": "#ffdd99", "mul": "#ffdd99", "div": "#ffdd99",
    "concat": "#ffbb78", "maxpool": "#f7b6d2", "avgpool": "#f7b6d2", "mean": "#f7b6d2",
    "upsample": "#f7b6d2", "pad": "#f7f7f7", "zero": "#ffffff", "input": "#ffffff", "output": "#ffffff",
}


def node_label(graph: ComputeGraph, v: int) -> tuple[str, str]:
    """The two lines of node ``v``'s box: its op with kernel ``KxK``, ``/stride``, ``gGROUPS`` (a
    grouped conv) and ``dDILATION`` where they apply, and its output shape ``H x W x C``."""
    op_id = int(graph.op_ids[v])
    op = f"oov: {graph.oov_names.get(v, '?')}" if op_id == 0 else OPS[op_id]
    kh, kw = graph.kernels[v].tolist()
    sh, sw = graph.strides[v].tolist()
    parts = [op]
    if kh or kw:
        parts.append(f"{kh}x{kw}")
    if (sh, sw) != (1, 1):
        parts.append(f"/{sh}" if sh == sw else f"/{sh}x{sw}")
    if OPS[op_id] == "group_conv":
        parts.append(f"g{int(graph.groups[v])}")
    if int(graph.dilations[v]) > 1:
        parts.append(f"d{int(graph.dilations[v])}")
    h, w, c = graph.shapes[v, 3:].tolist()
    return " ".join(parts), f"{h} x {w} x {c}"


def draw(graph: ComputeGraph, path: str | os.PathLike, *, page_nodes: int = PAGE_NODES, dpi: int = 110) -> list[Path]:
    """Draw ``graph`` to ``path`` (``.svg`` or ``.png``), top to bottom, and return the files
    written: ``[path]``, or ``path`` with ``-1``, ``-2``, ... before its extension when the graph
    has more than ``page_nodes`` nodes (pages cut between layers). Raises :class:`GennapeError` for
    another extension or a file that cannot be written."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise GennapeError(f"cannot draw to {path}: name a .svg or .png file")
    if page_nodes < 1:
        raise GennapeError(f"page_nodes (--page-nodes) must be at least 1, got {page_nodes}")
    if graph.num_nodes == 0:
        raise GennapeError(f"graph {graph.name!r} has no nodes to draw")
    labels = {v: node_label(graph, v) for v in range(graph.num_nodes)}

    def width_of(it: Item) -> float:
        if it.kind == "dummy":
            return 0.05
        if it.kind == "node":
            return max(1.0, CHAR_W * max(map(len, labels[it.node])) + 0.25)
        return CHAR_W * 0.9 * len(it.label) + 0.1

    pages = layout(graph, page_nodes, width_of)
    targets = ([path] if len(pages) == 1 else
               [path.with_name(f"{path.stem}-{p.number}{path.suffix}") for p in pages])
    for page, target in zip(pages, targets):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _render(graph, page, labels, target, dpi)
        except OSError as e:
            raise GennapeError(f"cannot write {target}: {e.strerror or e}") from None
    return targets


def _render(graph: ComputeGraph, page: Page, labels: dict, target: Path, dpi: int) -> None:
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MplPath

    items = page.items
    top = min(it.layer for it in items)
    y_of = [-(it.layer - top) * ROW for it in items]
    left = min(it.x - it.width / 2 for it in items)
    right = max(it.x + it.width / 2 for it in items)
    heading, notes = _title(graph, page)
    title, bold = heading + notes, len(heading)
    title_width = max(CHAR_W * len(t) * (1.3 if i < bold else 1.0) for i, t in enumerate(title)) + 0.3
    width = max(right - left, title_width) + 0.5
    height = -min(y_of) + BOX_H + 0.35 + 0.17 * len(title)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "gennape", "font.size": FONT}):
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
        centre = (left + right) / 2
        ax.set_xlim(centre - width / 2, centre + width / 2)
        ax.set_ylim(min(y_of) - BOX_H / 2 - 0.2, min(y_of) - BOX_H / 2 - 0.2 + height)
        ax.axis("off")
        for line, text in enumerate(title):
            ax.text(centre - width / 2 + 0.15, height + min(y_of) - BOX_H / 2 - 0.35 - 0.17 * line, text,
                    fontsize=FONT + (1.5 if line < bold else 0), weight="bold" if line < bold else "normal",
                    color=OOV_COLOUR if text.startswith("red:") and line >= bold else "black", va="bottom")
        for path in page.paths:
            ax.add_patch(FancyArrowPatch(path=MplPath(*_curve(items, y_of, path)), arrowstyle="-|>",
                                         mutation_scale=7, linewidth=0.7, color="#555555", zorder=1))
        for i, it in enumerate(items):
            if it.kind == "node":
                _box(ax, graph, it.node, labels[it.node], it.x, y_of[i], it.width, FancyBboxPatch)
            elif it.kind in ("in", "out"):
                ax.text(it.x, y_of[i], it.label, ha="center", va="center", fontsize=FONT * 0.9, style="italic",
                        color="#444444", zorder=3,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "#f4f4f4", "ec": "#aaaaaa", "lw": 0.5})
        fig.savefig(target, dpi=dpi, metadata={"Date": None} if target.suffix.lower() == ".svg" else None)


def _title(graph: ComputeGraph, page: Page) -> tuple[list[str], list[str]]:
    """The picture's heading (the graph's name, up to three lines of 64 characters: a family spec can
    be long) and the lines under it (sizes, page, what red means)."""
    name = graph.name or "graph"
    heading = [name[i:i + 64] for i in range(0, min(len(name), 192), 64)]
    if len(name) > 192:
        heading[-1] = heading[-1][:61] + "..."
    lines = [f"{graph.num_nodes} nodes, {graph.num_edges} edges, {graph.flops / 1e6:,.1f} M multiply-adds, "
             f"{graph.params / 1e6:,.3f} M params"]
    if page.count > 1:
        nodes = page.nodes
        lines.append(f"page {page.number} of {page.count}: {len(nodes)} nodes (#{min(nodes)} to #{max(nodes)})")
    if any(graph.op_ids[v] == 0 for v in page.nodes):
        lines.append("red: out-of-vocabulary op, labelled with its original name")
    return heading, lines


def _box(ax, graph: ComputeGraph, v: int, label: tuple[str, str], x: float, y: float, w: float, patch) -> None:
    op = OPS[int(graph.op_ids[v])]
    oov = op == "oov"
    edge = "#222222" if op in ("input", "output") else ("#8c1c1c" if oov else "#666666")
    ax.add_patch(patch((x - w / 2, y - BOX_H / 2), w, BOX_H, boxstyle="round,pad=0,rounding_size=0.06",
                       fc=OOV_COLOUR if oov else _COLOURS.get(op, "#ffffff"), ec=edge, zorder=2,
                       lw=1.4 if op in ("input", "output") or oov else 0.6, ls="--" if op == "zero" else "-"))
    colour = "white" if oov else "black"
    ax.text(x, y + 0.075, label[0], ha="center", va="center", color=colour, zorder=3,
            weight="bold" if oov or op in ("input", "output") else "normal")
    ax.text(x, y - 0.095, label[1], ha="center", va="center", color=colour, fontsize=FONT * 0.92, zorder=3)
    ax.text(x - w / 2 + 0.03, y + BOX_H / 2 + 0.012, f"#{v}", ha="left", va="bottom", fontsize=FONT * 0.7,
            color="#888888", zorder=3)


def _curve(items: list[Item], y_of: list[float], path: list[int]) -> tuple[list, list]:
    """Vertices and codes of an edge through ``path``'s points: a cubic curve between each pair of
    layers, leaving and entering vertically, from the foot of its first box to the head of its last."""
    from matplotlib.path import Path as MplPath

    def end(i: int, foot: bool) -> tuple[float, float]:
        it = items[i]
        half = BOX_H / 2 if it.kind == "node" else (0.1 if it.kind in ("in", "out") else 0.0)
        return it.x, y_of[i] - half if foot else y_of[i] + half

    points = [end(path[0], True)]
    for i in path[1:-1]:
        points.append((items[i].x, y_of[i]))
    points.append(end(path[-1], False))
    verts, codes = [points[0]], [MplPath.MOVETO]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        mid = (y0 + y1) / 2
        verts += [(x0, mid), (x1, mid), (x1, y1)]
        codes += [MplPath.CURVE4] * 3
    return verts, codes
