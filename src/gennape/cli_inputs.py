"""How the command line reads models: the files of ``predict`` (:func:`read_models`), the labels
CSV of ``fine-tune`` (:func:`read_labelled_models`) and the one graph ``draw`` draws
(:func:`read_graph`: an ONNX file, a saved graph file, where ``--index`` picks one of several, or with
``--family NAME`` a spec of that design space). Refusals are :class:`GennapeError` of one line; the
problems of a labels file are each printed on standard error first."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from .errors import GennapeError

DRAW_MODEL_HELP = ("an .onnx file, a saved .npz graph file, or with --family a spec of that family "
              "(quote it: nb201 specs hold | and ~)")


def read_graph(model: str, family: Optional[str], index: Optional[int], input_shape: Optional[tuple[int, ...]]):
    """The graph MODEL names (see the module docstring)."""
    if family is not None:
        return _family_graph(family, model)
    path = Path(model)
    if not path.exists():
        raise GennapeError(f"no file at {path} (to draw a family spec, name its family: --family NAME)")
    if path.is_dir():
        raise GennapeError(f"{path} is a folder; name one .onnx or .npz file")
    if path.suffix == ".npz":
        from .graph import load_graphs

        graphs = load_graphs(path)
        if index is None and len(graphs) > 1:
            raise GennapeError(f"{path} holds {len(graphs)} graphs; pick one with --index 0..{len(graphs) - 1}")
        index = 0 if index is None else index
        if not 0 <= index < len(graphs):
            raise GennapeError(f"--index {index}: {path} holds {len(graphs)} graph(s), 0..{len(graphs) - 1}")
        return graphs[index]
    if path.suffix == ".onnx":
        from .graph import from_onnx

        return from_onnx(path, input_shape=input_shape, name=path.stem)
    raise GennapeError(f"{path}: cannot read a {path.suffix or 'suffix-less'} file; name an .onnx or .npz file "
                       "(or a spec with --family NAME)")


def _family_graph(name: str, text: str):
    from . import families

    family = families.get(name)  # names every family when it is unknown
    spec = family.parse(text)
    graph = family.to_graph(spec)
    graph.name = f"{name}:{family.format(spec)}"
    return graph


def reading(items: list, what: str):
    """``items`` with a progress bar on stderr while models are read (only on a terminal)."""
    from tqdm import tqdm

    return tqdm(items, desc=f"reading {what}", unit="model", disable=None, leave=False)


def read_models(path: Path, input_shape: Optional[tuple[int, ...]]) -> list:
    """The graphs in one model file: a saved .npz (one or more graphs) or an ONNX model."""
    from .graph import from_onnx, load_graphs

    if path.suffix == ".npz":
        return load_graphs(path)
    return [from_onnx(path, input_shape=input_shape, name=path.stem)]


def read_labelled_models(labels: Path, input_shape: Optional[tuple[int, ...]]) -> tuple[list, np.ndarray]:
    """The graphs and accuracies (percent) of a CSV with the columns model,accuracy; every unusable
    row is reported (file:line and why: not a percentage, a model file that cannot be read or is on
    an earlier row) before one error stops the command; then the accuracies are checked as
    :func:`gennape.training.labels.check_accuracies` checks them (not fractions, not all equal), and
    rows whose files hold the same network are warned about."""
    import csv

    from .training.labels import accuracy_problem, check_accuracies

    if not labels.is_file():
        raise GennapeError(f"no labels file at {labels}")
    with labels.open(newline="", encoding="utf-8-sig") as fh:  # -sig: spreadsheets often start with a BOM
        reader = csv.DictReader(fh)
        rows, columns = list(reader), reader.fieldnames or []
    if not {"model", "accuracy"} <= set(columns):
        raise GennapeError(f"{labels} needs a header line with the columns model,accuracy; it has {columns}")
    graphs, accuracies, problems, where_of, line_of = [], [], [], [], {}
    for line, row in enumerate(reading(rows, labels.name), start=2):
        where, model = f"{labels}:{line}", (row["model"] or "").strip()
        try:
            accuracy = float(row["accuracy"])
        except (TypeError, ValueError):
            problems.append(f"{where}: accuracy {row['accuracy']!r} is not a number")
            continue
        if problem := accuracy_problem(accuracy):
            problems.append(f"{where}: {problem}")
            continue
        if not model:
            problems.append(f"{where}: no model file named")
            continue
        path = labels.parent / model
        if path.resolve() in line_of:
            problems.append(f"{where}: {model} is also on {labels}:{line_of[path.resolve()]}; list each model once")
            continue
        try:
            found = read_models(path, input_shape)
        except GennapeError as e:
            problems.append(f"{where}: {e}")
            continue
        if len(found) != 1:
            problems.append(f"{where}: {model} holds {len(found)} graphs; name one model per row")
            continue
        line_of[path.resolve()] = line
        graphs += found
        accuracies.append(accuracy)
        where_of.append(f"{where} ({model})")
    for problem in problems:
        typer.secho(problem, fg=typer.colors.RED, err=True)
    if problems:
        raise GennapeError(f"{len(problems)} of the {len(rows)} rows of {labels} cannot be used; nothing was "
                           "fine-tuned")
    warn_same_networks(graphs, where_of)
    return graphs, check_accuracies(accuracies, where=str(labels))


def warn_same_networks(graphs: list, where_of: list[str]) -> None:
    """One warning line per group of rows whose (different) files hold the same network."""
    from .training.labels import same_networks

    for group in same_networks(graphs):
        typer.secho(f"warning: {' and '.join(where_of[i] for i in group)} are the same network; each row counts "
                    "as a sample of its own", fg=typer.colors.YELLOW, err=True)
