"""The on-disk graph cache: the computation graphs of a whole labelled family, built once in
parallel processes and kept in the user cache directory until the graph converter changes."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from .. import families
from ..graph import VOCAB_VERSION, ComputeGraph, load_graphs, save_graphs
from ..files import cache_root
from ..provenance import code_digest
from .base import family_of, load

#: bump when graphs built from the same family code must still be rebuilt
GRAPH_CACHE_VERSION = 1
_CHUNKS_PER_WORKER = 8
_MAX_CHUNK = 256


def dataset_graphs(dataset: str, family: str | families.Family | None = None, *,
                   root: str | os.PathLike | None = None, workers: int | None = None, progress: bool = True,
                   cache_dir: str | os.PathLike | None = None) -> list[ComputeGraph]:
    """The graphs of every record of data set ``dataset`` (see :func:`gennape.data.load`), in
    record order, from the cache when it is current. ``family`` defaults to the data set's own."""
    specs = [rec.spec for rec in load(dataset, root)]
    return graphs_for(family or family_of(dataset), specs, name=dataset, workers=workers,
                      progress=progress, cache_dir=cache_dir)


def graphs_for(family: str | families.Family, specs: Sequence[Any], *, name: str, workers: int | None = None,
               progress: bool = True, cache_dir: str | os.PathLike | None = None) -> list[ComputeGraph]:
    """``family.to_graph(spec)`` for every spec, read from the cache file of ``name`` when its key
    (:func:`cache_key`) matches, else built in ``workers`` processes (default: one per usable
    core) and cached, replacing the stale files of ``name``."""
    if isinstance(family, str):
        family = families.get(family)
    texts = [family.format(s) for s in specs]
    path = graph_cache_path(name, cache_key(family, texts), cache_dir)
    if path.is_file():
        return load_graphs(path)
    graphs = _build(family, texts, workers, progress)
    save_graphs(path, graphs)
    for stale in path.parent.glob(f"{_file_stem(name)}-*.npz"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return graphs


def cache_key(family: families.Family, spec_texts: Sequence[str]) -> str:
    """Digest of everything the cached graphs depend on: this cache's version, the op vocabulary,
    the source of every gennape module the family's module draws on, and the specs themselves."""
    settings = repr(sorted(vars(family).items()))  # e.g. a variant's number of classes
    digest = hashlib.sha256(json.dumps([GRAPH_CACHE_VERSION, VOCAB_VERSION, family.name, settings]).encode())
    digest.update(code_digest(type(family).__module__).encode())
    digest.update("\n".join(spec_texts).encode())
    return digest.hexdigest()[:16]


def graph_cache_path(name: str, key: str, cache_dir: str | os.PathLike | None = None) -> Path:
    return cache_root(cache_dir) / "graphs" / f"{_file_stem(name)}-{key}.npz"


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "_", name)


def _build(family: families.Family, texts: list[str], workers: int | None, progress: bool) -> list[ComputeGraph]:
    workers = workers or len(os.sched_getaffinity(0))
    chunk = max(1, min(_MAX_CHUNK, math.ceil(len(texts) / (workers * _CHUNKS_PER_WORKER))))
    starts = range(0, len(texts), chunk)
    bar = tqdm(total=len(texts), desc=f"building {family.name} graphs", unit="graph", disable=not progress)
    with bar:
        if workers == 1 or len(starts) <= 1:
            graphs = []
            for s in starts:
                graphs += _graphs_of(family, texts[s:s + chunk])
                bar.update(len(texts[s:s + chunk]))
            return graphs
        parts: dict[int, list[ComputeGraph]] = {}
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_graphs_of, family, texts[s:s + chunk]): s for s in starts}
            try:
                for future in as_completed(futures):
                    parts[futures[future]] = future.result()
                    bar.update(len(parts[futures[future]]))
            except BaseException:
                pool.shutdown(cancel_futures=True)  # fail now, not after every other chunk
                raise
    return [g for s in starts for g in parts[s]]


def _graphs_of(family: families.Family, texts: list[str]) -> list[ComputeGraph]:
    """Worker: specs travel as their canonical strings, so any spec type works."""
    return [family.to_graph(family.parse(t)) for t in texts]
