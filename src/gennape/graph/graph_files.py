"""The graph file format: :func:`save_graphs` writes graphs to one compressed, pickle-free ``.npz``
and :func:`load_graphs` reads them back, refusing (with a :class:`GraphError` naming the file and
what is wrong) files that are not ours, from other versions, or damaged."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import GraphError
from ..files import save_npz_atomically
from .checks import negative_costs
from .compute_graph import _DTYPES, _NODE_ARRAYS, FORMAT_VERSION, ComputeGraph
from .ops import VOCAB_VERSION

#: every array of a graph file but the header, with the dtype :func:`save_graphs` writes it in
_FILE_DTYPES = {**_DTYPES, "edges": np.int32, "node_offsets": np.int64, "edge_offsets": np.int64}

def save_graphs(path: str | os.PathLike, graphs: Iterable[ComputeGraph]) -> None:
    """Write graphs to one compressed ``.npz`` (pickle-free): node and edge arrays concatenated, with
    offsets and a JSON header carrying the format and vocabulary versions. Written to a temporary
    file first, so a failure leaves nothing half-written."""
    graphs = list(graphs)
    path = Path(path)
    header = {"format": FORMAT_VERSION, "vocab": VOCAB_VERSION, "names": [g.name for g in graphs],
              "oov": [{str(k): v for k, v in g.oov_names.items()} for g in graphs]}
    arrays = {key: np.concatenate([getattr(g, key) for g in graphs]) if graphs else np.zeros(0, _DTYPES[key])
              for key in _NODE_ARRAYS}
    arrays["edges"] = np.concatenate([g.edges for g in graphs]) if graphs else np.zeros((0, 2), np.int32)
    arrays["node_offsets"] = np.cumsum([0] + [g.num_nodes for g in graphs]).astype(np.int64)
    arrays["edge_offsets"] = np.cumsum([0] + [g.num_edges for g in graphs]).astype(np.int64)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    save_npz_atomically(path, **arrays)


def load_graphs(path: str | os.PathLike) -> list[ComputeGraph]:
    """Read graphs written by :func:`save_graphs`. Raises :class:`GraphError` naming the file (and the
    graph) when it is missing, not a graph file, from another format or vocabulary version, or
    damaged: arrays missing, mis-shaped or of the wrong type, offsets that do not fit, negative costs."""
    path = Path(path)
    if not path.exists():
        raise GraphError(f"no graph file at {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        header = json.loads(bytes(data["header"]).decode())
    except Exception as e:  # zipfile/ValueError/KeyError: the file is not ours or is damaged
        raise GraphError(f"{path} is not a readable gennape graph file ({type(e).__name__}: {e})") from None
    if not isinstance(header, dict):
        raise GraphError(f"{path} is not a gennape graph file: its header is not a JSON object")
    if header.get("format") != FORMAT_VERSION:
        raise GraphError(f"{path} has graph format {header.get('format')}, this gennape reads {FORMAT_VERSION}")
    if header.get("vocab") != VOCAB_VERSION:
        raise GraphError(f"{path} uses op vocabulary v{header.get('vocab')}, this gennape has v{VOCAB_VERSION}")
    names, oov = _header_lists(path, header)
    _check_arrays(path, data)
    no = _offsets(path, data["node_offsets"], "node_offsets", len(names), len(data["op_ids"]))
    eo = _offsets(path, data["edge_offsets"], "edge_offsets", len(names), len(data["edges"]))
    graphs = []
    for i, name in enumerate(names):
        sl = slice(no[i], no[i + 1])
        kw = {key: data[key][sl] for key in _NODE_ARRAYS}
        try:
            g = ComputeGraph(edges=data["edges"][eo[i]:eo[i + 1]], name=name,
                             oov_names={int(k): v for k, v in oov[i].items()}, **kw)
        except (GraphError, AttributeError, TypeError, ValueError) as e:
            raise GraphError(f"{path}: graph {i} ({name!r}) is damaged: {e}") from None
        graphs.append(g)
    negative = (data["macs"] < 0) | (data["param_counts"] < 0)
    if negative.any():  # checked once over the file, then named
        i = int(np.searchsorted(no, np.argmax(negative), side="right")) - 1
        raise GraphError(f"{path}: {negative_costs(graphs[i])}")
    return graphs


def _header_lists(path: Path, header: dict) -> tuple[list, list]:
    """The graph names and out-of-vocabulary tables (one of each per graph) of a graph file's header."""
    names, oov = header.get("names"), header.get("oov")
    if not (isinstance(names, list) and isinstance(oov, list) and len(names) == len(oov)
            and all(isinstance(t, dict) for t in oov)):
        raise GraphError(f"{path} is damaged: its header must list one name and one out-of-vocabulary table "
                         "per graph ('names', 'oov')")
    return names, oov


def _check_arrays(path: Path, data: dict[str, np.ndarray]) -> None:
    """Every array :func:`save_graphs` writes is in ``data`` (a graph file's), holding values its
    dtype keeps exactly, and the node arrays (one row per node) are equally long."""
    missing = [k for k in _FILE_DTYPES if k not in data]
    if missing:
        raise GraphError(f"{path} is not a complete gennape graph file: it lacks the array(s) {', '.join(missing)}")
    for key, dtype in _FILE_DTYPES.items():
        arr = data[key]
        kind_ok = arr.dtype.kind == "b" if dtype is np.bool_ else arr.dtype.kind in "iub"
        if not kind_ok or arr.ndim == 0 or not np.array_equal(arr.astype(dtype), arr):
            raise GraphError(f"{path} is damaged: array {key!r} holds {arr.dtype} values of shape {arr.shape}, "
                             f"not a column of {np.dtype(dtype).name}")
    lengths = {key: len(data[key]) for key in _NODE_ARRAYS}
    if len(set(lengths.values())) > 1:
        raise GraphError(f"{path} is damaged: its node arrays differ in length ({lengths})")


def _offsets(path: Path, offsets: np.ndarray, key: str, n_graphs: int, n_rows: int) -> np.ndarray:
    """``offsets`` (array ``key`` of a graph file) when they split ``n_rows`` rows into ``n_graphs``
    graphs: 0, ..., ``n_rows``, never decreasing."""
    ok = (offsets.shape == (n_graphs + 1,) and offsets[0] == 0 and offsets[-1] == n_rows
          and (np.diff(offsets) >= 0).all())
    if not ok:
        raise GraphError(f"{path} is damaged: {key} {offsets.tolist()[:8]} do not split {n_rows} rows into "
                         f"{n_graphs} graphs")
    return offsets
