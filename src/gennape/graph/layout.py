"""A layered (Sugiyama-style) layout of a computation graph, top to bottom, in pure Python and numpy,
for :mod:`.draw`.

* **Layers**: a node sits one layer below its lowest predecessor (longest path from the inputs).
* **Pages**: a graph of more than ``page_nodes`` nodes is cut between layers into pages of at most
  ``page_nodes`` nodes each (a single layer wider than that gets a page of its own). An edge that
  leaves a page ends in a stub at its foot ("to #12 (p.2)"); on the page it reaches it starts at a
  stub at its head ("from #9 (p.1)"), so every edge is drawn and every node appears exactly once.
* **Long edges** pass through one dummy point per layer they cross, so they bend around nodes
  instead of running through them.
* **Order within a layer**: barycentre sweeps, down and up, keeping the order with the fewest
  crossings; **x positions**: each item pulled towards the mean of its neighbours' positions, under
  a minimum spacing (solved exactly per layer by isotonic regression).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compute_graph import ComputeGraph


@dataclass
class Item:
    """One thing placed on a page: a graph node, a dummy point of a long edge, or a stub of an edge
    coming from (``in``) or going to (``out``) another page. ``node``: the graph node it stands for
    (its source node for a stub), -1 for a dummy."""
    kind: str  # "node", "dummy", "in" or "out"
    layer: int
    node: int = -1
    width: float = 0.0
    label: str = ""
    x: float = 0.0


@dataclass
class Page:
    """A laid-out page: ``items`` with positions, ``paths`` (lists of item indices, one per edge,
    source first, dummies between), and the graph nodes it holds (``first``..``last`` layers)."""
    number: int
    count: int
    first_layer: int
    last_layer: int
    items: list[Item] = field(default_factory=list)
    paths: list[list[int]] = field(default_factory=list)

    @property
    def nodes(self) -> list[int]:
        return [it.node for it in self.items if it.kind == "node"]


def node_layers(graph: ComputeGraph) -> np.ndarray:
    """Each node's layer: 0 for nodes without predecessors, else one below its lowest predecessor."""
    layer = np.zeros(graph.num_nodes, dtype=int)
    edges = graph.edges[np.argsort(graph.edges[:, 1], kind="stable")] if graph.num_edges else graph.edges
    for s, d in edges.tolist():  # nodes are topologically sorted: a source's layer is final here
        layer[d] = max(layer[d], layer[s] + 1)
    return layer


def paginate(layers: np.ndarray, page_nodes: int) -> list[tuple[int, int]]:
    """(first layer, last layer) of each page: consecutive layers holding at most ``page_nodes``
    nodes in all (a wider layer alone)."""
    counts = np.bincount(layers) if len(layers) else np.zeros(0, dtype=int)
    pages, start, held = [], 0, 0
    for layer, n in enumerate(counts.tolist()):
        if held and held + n > page_nodes:
            pages.append((start, layer - 1))
            start, held = layer, 0
        held += n
    pages.append((start, max(len(counts) - 1, start)))
    return pages


def layout(graph: ComputeGraph, page_nodes: int, width_of, gap: float = 0.3) -> list[Page]:
    """Every page of ``graph``, laid out; ``width_of(item)`` gives an item's box width (inches)."""
    layers = node_layers(graph)
    ranges = paginate(layers, page_nodes)
    page_of = np.zeros(len(layers), dtype=int)
    for k, (a, b) in enumerate(ranges):
        page_of[(layers >= a) & (layers <= b)] = k
    pages = []
    for k, (a, b) in enumerate(ranges):
        page = _page_items(graph, layers, page_of, k, (a, b), len(ranges))
        for it in page.items:
            it.width = width_of(it)
        rows = _order(page)
        _place_x(page, rows, gap)
        pages.append(page)
    return pages


def _page_items(graph: ComputeGraph, layers: np.ndarray, page_of: np.ndarray, k: int, span: tuple[int, int],
                count: int) -> Page:
    a, b = span
    page = Page(k + 1, count, a, b)
    index: dict[tuple, int] = {}

    def item(key: tuple, it: Item) -> int:
        if key not in index:
            index[key] = len(page.items)
            page.items.append(it)
        return index[key]

    for v in np.flatnonzero(page_of == k).tolist():
        item(("node", v), Item("node", int(layers[v]), v))
    outgoing: dict[int, list[int]] = {}
    for s, d in graph.edges.tolist():
        ps, pd = page_of[s], page_of[d]
        if ps == k and pd == k:
            src, dst = index[("node", s)], index[("node", d)]
        elif ps < k and pd == k:
            src = item(("in", s), Item("in", a - 1, s, label=f"from #{s} (p.{ps + 1})"))
            dst = index[("node", d)]
        elif ps == k and pd > k:
            outgoing.setdefault(s, []).append(d)
            continue
        else:
            continue
        page.paths.append(_with_dummies(page, src, dst))
    for s, targets in outgoing.items():
        shown = ", ".join(f"#{d}" for d in targets[:3]) + (", ..." if len(targets) > 3 else "")
        pages = sorted({int(page_of[d]) + 1 for d in targets})
        where = f"p.{pages[0]}" if len(pages) == 1 else f"p.{pages[0]}-{pages[-1]}"
        out = item(("out", s), Item("out", b + 1, s, label=f"to {shown} ({where})"))
        page.paths.append(_with_dummies(page, index[("node", s)], out))
    return page


def _with_dummies(page: Page, src: int, dst: int) -> list[int]:
    path = [src]
    for layer in range(page.items[src].layer + 1, page.items[dst].layer):
        page.items.append(Item("dummy", layer))
        path.append(len(page.items) - 1)
    return path + [dst]


def _segments(page: Page) -> list[tuple[int, int]]:
    return [(p[i], p[i + 1]) for p in page.paths for i in range(len(p) - 1)]


def _order(page: Page, sweeps: int = 6) -> list[list[int]]:
    """Items by layer (top first), each layer ordered by barycentre sweeps, fewest crossings kept."""
    top = min(it.layer for it in page.items)
    rows: list[list[int]] = [[] for _ in range(max(it.layer for it in page.items) - top + 1)]
    for i, it in enumerate(page.items):
        rows[it.layer - top].append(i)
    up: dict[int, list[int]] = {}
    down: dict[int, list[int]] = {}
    for s, d in _segments(page):
        down.setdefault(s, []).append(d)
        up.setdefault(d, []).append(s)
    best, best_crossings = [list(r) for r in rows], _crossings(rows, down)
    for sweep in range(sweeps):
        order = range(1, len(rows)) if sweep % 2 == 0 else range(len(rows) - 2, -1, -1)
        links, near = (up, -1) if sweep % 2 == 0 else (down, 1)
        for r in order:
            pos = {v: i for i, v in enumerate(rows[r + near])}
            keys = {v: (np.mean([pos[u] for u in links[v]]) if links.get(v) else i)
                    for i, v in enumerate(rows[r])}
            rows[r] = sorted(rows[r], key=keys.__getitem__)
        crossings = _crossings(rows, down)
        if crossings < best_crossings:
            best, best_crossings = [list(r) for r in rows], crossings
    return best


def _crossings(rows: list[list[int]], down: dict[int, list[int]]) -> int:
    total = 0
    for r in range(len(rows) - 1):
        pos = {v: i for i, v in enumerate(rows[r + 1])}
        ends = np.array([(i, pos[d]) for i, v in enumerate(rows[r]) for d in down.get(v, [])]).reshape(-1, 2)
        if len(ends) > 1:
            da = np.sign(ends[:, None, 0] - ends[None, :, 0])
            db = np.sign(ends[:, None, 1] - ends[None, :, 1])
            total += int((da * db < 0).sum()) // 2
    return total


def _place_x(page: Page, rows: list[list[int]], gap: float, rounds: int = 12) -> None:
    """x of every item: in its layer's order, at least half of both widths plus ``gap`` apart,
    as near as possible to the mean x of its neighbours (long edges weigh more, to run straight)."""
    items = page.items
    neighbours: dict[int, list[tuple[int, float]]] = {i: [] for i in range(len(items))}
    for s, d in _segments(page):
        w = 4.0 if items[s].kind == "dummy" and items[d].kind == "dummy" else 1.0
        neighbours[s].append((d, w))
        neighbours[d].append((s, w))
    offsets = []
    for row in rows:
        widths = np.array([items[i].width for i in row])
        c = np.concatenate([[0.0], np.cumsum((widths[:-1] + widths[1:]) / 2 + gap)])
        offsets.append(c)
        for i, xi in zip(row, c - c.mean()):
            items[i].x = float(xi)
    for _ in range(rounds):
        for r in list(range(len(rows))) + list(range(len(rows) - 1, -1, -1)):
            row, c = rows[r], offsets[r]
            want = np.array([np.average([items[j].x for j, _ in neighbours[i]], weights=[w for _, w in neighbours[i]])
                             if neighbours[i] else items[i].x for i in row])
            for i, xi in zip(row, _isotonic(want - c) + c):
                items[i].x = float(xi)


def _isotonic(y: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence nearest to ``y`` in least squares (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, count]
    for v in y.tolist():
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, n2 = blocks.pop()
            m1, n1 = blocks.pop()
            blocks.append([(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2])
    return np.concatenate([np.full(int(n), m) for m, n in blocks]) if blocks else np.zeros(0)
