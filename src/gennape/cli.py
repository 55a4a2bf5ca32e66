"""The ``gennape`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from . import cli_inputs as _inputs
from .errors import GennapeError
from .graph.draw import FORMATS as DRAW_FORMATS
from .graph.draw import PAGE_NODES

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Computation graphs and accuracy estimates for neural networks, before training.")


def _fail(err: Exception) -> None:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _parse_shape(text: Optional[str]) -> Optional[tuple[int, ...]]:
    """``--input-shape`` as (C, H, W), checked as the converters check it (one error line otherwise)."""
    from .graph.checks import check_input_shape

    if text is None:
        return None
    try:
        shape = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        _fail(GennapeError(f"--input-shape {text!r} is not a shape like 3,224,224"))
    try:
        return check_input_shape(shape)
    except GennapeError as e:
        _fail(GennapeError(f"--input-shape: {e}"))


def _file_error(path: Path, err: Exception) -> str:
    """``path: err`` for an error line, without repeating the path where the message starts with it."""
    return str(err) if str(err).startswith(str(path)) else f"{path}: {err}"


def _out_folder(out: Optional[Path]) -> Optional[Path]:
    """``--out``, refused (one error line) when it names an existing file rather than a folder."""
    if out is not None and out.exists() and not out.is_dir():
        _fail(GennapeError(f"--out {out} is a file; name a folder (it is created when missing)"))
    return out


ESTIMATOR_HELP = ("a shipped estimator, gennape (one seed, the paper's rule) or gennape_seeds (every seed "
                  "averaged: steadier transfer, 5x slower), or a folder saved by Estimator.save / SeedEnsemble.save")


def _presets_help() -> str:
    from .training.config import PRESETS  # imports nothing heavy

    return ", ".join(p for p in PRESETS.names() if p not in ("default", "quick"))


def _load_estimator(name_or_folder: str):
    from .estimator import load_estimator

    try:
        return load_estimator(name_or_folder)
    except GennapeError as e:
        _fail(e)


@app.command()
def demo(estimator: str = typer.Option("gennape", help=ESTIMATOR_HELP)) -> None:
    """Convert the built-in example models to computation graphs and score them with the shipped
    estimator (score: higher is better; accuracy: NB-101-calibrated CIFAR-10 estimate, percent)."""
    from .examples.models import EXAMPLES, example
    from .graph import from_torch

    est = _load_estimator(estimator)
    graphs = [from_torch(*example(name), name=name) for name in EXAMPLES]
    _print_estimates(graphs, est)


def _print_estimates(graphs, estimator, sources=None, fmt: str = "table", threads: int = 0) -> None:
    """One record per graph, best first: the ensemble score ranks the graphs within this one call;
    scored on ``threads`` torch threads (0: :func:`~.estimator.threads.predict_threads`'s rule)."""
    from .cli_records import PREDICT_COLUMNS, predict_records, predict_table, render
    from .estimator.threads import predict_threads, torch_threads

    with torch_threads(threads or predict_threads(sum(g.num_nodes for g in graphs))):
        records = predict_records(graphs, sources or [("", 0)] * len(graphs), estimator)
    typer.echo(predict_table(records) if fmt == "table" else render(records, PREDICT_COLUMNS, fmt), nl=fmt == "table")


def _check_format(fmt: str) -> str:
    """``--format``, refused (one error line) unless table, csv or json."""
    from .cli_records import FORMATS

    if fmt not in FORMATS:
        _fail(GennapeError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}"))
    return fmt


FORMAT_HELP = ("table (for people), or csv or json for scripts: one record per model on standard output, "
               "errors on standard error")


@app.command()
def predict(paths: list[Path] = typer.Argument(..., help=".onnx files, saved .npz graphs, or folders of them"),
            input_shape: Optional[str] = typer.Option(None, help="C,H,W for ONNX models with dynamic sizes"),
            estimator: str = typer.Option("gennape", help=ESTIMATOR_HELP),
            fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
            threads: int = typer.Option(0, help="torch threads for scoring (0: gennape's rule, one per 10,000 "
                                                "graph nodes, at most one fewer than the cores)")) -> None:
    """Score models with the shipped estimator, best first. Columns (csv and json keys): macs are
    multiply-adds; score_within_call ranks the models of this one call (higher is better);
    accuracy_percent_nb101_cifar10 is an accuracy estimate in percent calibrated on NAS-Bench-101's
    CIFAR-10 (until fine-tuned); constant_output marks a network whose output ignores its input.
    Scoring runs on one torch thread per 10,000 graph nodes, at most one fewer than the usable cores
    (one on a 2-core machine), whatever the load, so that a busy machine slows it little; --threads
    overrides (gennape.estimator.threads says why)."""
    shape, fmt = _parse_shape(input_shape), _check_format(fmt)
    if threads < 0:
        _fail(GennapeError(f"--threads {threads}: give a positive count, or 0 for gennape's rule"))
    est = _load_estimator(estimator)
    files = [f for p in paths for f in (sorted([*p.glob("*.onnx"), *p.glob("*.npz")]) if p.is_dir() else [p])]
    graphs, sources, failed = [], [], 0
    for f in _inputs.reading(files, "models"):
        try:
            found = _inputs.read_models(f, shape)
        except GennapeError as e:
            failed += 1
            typer.secho(_file_error(f, e), fg=typer.colors.RED, err=True)
            continue
        graphs += found
        sources += [(str(f), i) for i in range(len(found))]
    if not graphs:
        _fail(GennapeError(f"no model could be read from {', '.join(map(str, paths))}"))
    _print_estimates(graphs, est, sources, fmt, threads)
    if failed:
        raise typer.Exit(code=2)


@app.command("fine-tune")
def fine_tune(labels: Path = typer.Argument(..., help="CSV with a header line and the columns model,accuracy: "
                                                      "one .onnx or .npz file per row (relative to the CSV's "
                                                      "folder) and its measured accuracy in percent"),
              out: Path = typer.Option(..., help="folder to save the fine-tuned estimator in; score with "
                                                 "gennape predict --estimator OUT"),
              input_shape: Optional[str] = typer.Option(None, help="C,H,W for ONNX models with dynamic sizes"),
              estimator: str = typer.Option("gennape", help=ESTIMATOR_HELP),
              epochs: int = typer.Option(100, help="training epochs of every head (GENNAPE's: 100)"),
              seed: int = typer.Option(0, help="seeds the heads' training")) -> None:
    """Fine-tune an estimator on your own measured models (GENNAPE uses 50 of a design space) and
    save it; the encoder stays frozen, the heads and the k-GNN adapt, and the ensemble weights
    become the softmax of each member's Kendall tau on these models."""
    import warnings

    from .training.labels import DuplicateGraphWarning

    shape, out = _parse_shape(input_shape), _out_folder(out)
    try:
        graphs, accuracies = _inputs.read_labelled_models(labels, shape)
        est = _load_estimator(estimator)
        typer.echo(f"fine-tuning on {len(graphs)} models, {epochs} epochs ...")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DuplicateGraphWarning)  # reported above, by file and line
            tuned = est.fine_tune(graphs, accuracies, epochs=epochs, seed=seed)
    except GennapeError as e:
        _fail(e)
    try:
        tuned.save(out)
    except OSError as e:
        _fail(GennapeError(f"cannot save the fine-tuned estimator in {out}: {e}"))
    estimators = getattr(tuned, "estimators", [tuned])  # a SeedEnsemble, or one Estimator
    typer.echo(f"saved to {out}" + (f" (mean over {len(estimators)} seeds below)" if len(estimators) > 1 else ""))
    typer.echo(f"{'member':<18}{'Kendall tau on these models':>28}{'weight':>8}")
    for name in estimators[0].weights:
        tau = np.mean([e.info["fine_tuned"]["kendall_tau"][name] for e in estimators])
        weight = np.mean([e.weights[name] for e in estimators])
        typer.echo(f"{name:<18}{tau:>28.3f}{weight:>8.3f}")
    if estimators[0].constant_accuracy is not None:
        typer.echo(f"networks that compute a constant are now predicted at {estimators[0].constant_accuracy:.2f} %, "
                   "what such models scored here")


@app.command()
def convert(paths: list[Path] = typer.Argument(..., help="ONNX files or folders of them"),
            input_shape: Optional[str] = typer.Option(None, help="C,H,W for models with dynamic sizes"),
            out: Optional[Path] = typer.Option(None, help="folder to write one .npz graph per model"),
            strict: bool = typer.Option(False, help="fail on ops outside the vocabulary"),
            fmt: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    """Convert ONNX models (files or folders) to computation graphs and print a summary of each
    (csv and json: nodes, edges, macs = multiply-adds, params, op counts, out-of-vocabulary ops, and
    the .npz written with --out)."""
    from .cli_records import CONVERT_COLUMNS, convert_record, render
    from .graph import from_onnx

    shape, out, fmt = _parse_shape(input_shape), _out_folder(out), _check_format(fmt)
    files = [f for p in paths for f in (sorted(p.glob("*.onnx")) if p.is_dir() else [p])]
    if not files:
        _fail(GennapeError(f"no .onnx files in {', '.join(map(str, paths))}"))
    failed, records = 0, []
    for f in files:
        try:
            g = from_onnx(f, input_shape=shape, strict=strict, name=f.stem)
        except GennapeError as e:
            failed += 1
            typer.secho(_file_error(f, e), fg=typer.colors.RED, err=True)
            continue
        if fmt == "table":
            typer.echo(g.summary())
            if g.oov_ops:
                typer.echo(f"  out-of-vocabulary ops: {', '.join(g.oov_ops)}")
        saved = None
        if out is not None:
            try:
                g.save(out / f"{f.stem}.npz")
                saved = str(out / f"{f.stem}.npz")
            except OSError as e:
                failed += 1
                typer.secho(f"{f}: cannot write {out / f'{f.stem}.npz'}: {e}", fg=typer.colors.RED, err=True)
        records.append(convert_record(g, str(f), saved))
    if fmt != "table":
        typer.echo(render(records, CONVERT_COLUMNS, fmt), nl=False)
    if failed:
        raise typer.Exit(code=2)


@app.command()
def draw(model: str = typer.Argument(..., help=_inputs.DRAW_MODEL_HELP),
         out: Path = typer.Option(..., help="picture to write, .svg or .png; a graph of more than --page-nodes "
                                            "nodes is paginated into OUT-1.svg, OUT-2.svg, ..."),
         family: Optional[str] = typer.Option(None, help="read MODEL as a spec of this family (gennape families)"),
         index: Optional[int] = typer.Option(None, help="which graph of an .npz file that holds several (from 0)"),
         input_shape: Optional[str] = typer.Option(None, help="C,H,W for ONNX models with dynamic sizes"),
         page_nodes: int = typer.Option(PAGE_NODES, help="at most this many nodes per picture")) -> None:
    """Draw a model's computation graph top to bottom: each node with its op, kernel and output shape
    (H x W x C); out-of-vocabulary ops red, with their original names."""
    from .graph.draw import draw as draw_graph

    shape = _parse_shape(input_shape)
    try:
        if out.suffix.lower() not in DRAW_FORMATS:
            raise GennapeError(f"--out {out}: name a .svg or .png file")
        written = draw_graph(_inputs.read_graph(model, family, index, shape), out, page_nodes=page_nodes)
    except GennapeError as e:
        _fail(e)
    for path in written:
        typer.echo(str(path))


@app.command()
def families() -> None:
    """List the design spaces gennape can build, sample and convert."""
    from . import families as fam

    for name in fam.names():
        f = fam.get(name)
        size = f"{f.space_size:,}" if f.space_size else "-"
        typer.echo(f"{name:<18} space size {size}")


@app.command()
def info(path: Path) -> None:
    """Print the summary of a saved graph file."""
    from .graph import load_graphs

    try:
        for g in load_graphs(path):
            typer.echo(g.summary())
    except GennapeError as e:
        _fail(e)


@app.command()
def train(out: Path = typer.Argument(..., help="folder for checkpoints, estimator/ and metrics.json"),
          preset: str = typer.Option("default", help="default (about 25 min on one core), quick, or a variant: "
                                                     + _presets_help()),
          seed: int = typer.Option(0, help="seeds the NB-101 split and every stage"),
          threads: int = typer.Option(1, help="torch threads (one is fastest on a busy 2-core machine)")) -> None:
    """Train the estimator on NAS-Bench-101; rerunning with the same folder resumes after the last
    finished stage."""
    import logging

    import torch

    from .training import TrainConfig, train_estimator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(threads)
    try:
        train_estimator(TrainConfig.preset(preset), seed, out)
    except GennapeError as e:
        _fail(e)


@app.command()
def reproduce(seed: list[int] = typer.Option([0, 1, 2, 3, 4], help="seeds to run (repeat the option)"),
              out: Optional[Path] = typer.Option(None, help="folder for tables, plots and raw numbers "
                                                            "[default: results, or results/PRESET]"),
              quick: bool = typer.Option(False, help="tiny settings that only exercise the pipeline"),
              preset: str = typer.Option("default", help="training preset: default, or a variant: "
                                                         + _presets_help()),
              ship: bool = typer.Option(True, help="evaluate the best seed's estimator over fine-tuning seeds "
                                                   "(shipped.md) and save it as the shipped weights (the "
                                                   "default preset only)"),
              weights_dir: Optional[Path] = typer.Option(None, help="where --ship saves the best seed "
                                                                    "[default: the package's weights]"),
              compare_with: Optional[Path] = typer.Option(None, help="another results folder: write "
                                                                      "comparison.md against its seeds"),
              seed_ensemble: bool = typer.Option(True, help="also evaluate and ship the mean of the finished "
                                                            "seeds' estimators"),
              runs_dir: Path = typer.Option(Path("runs/reproduce"), help="training checkpoints, one folder per "
                                                                         "preset and seed"),
              dataset: Optional[list[str]] = typer.Option(None, help="evaluation sets (repeat the option) "
                                                                     "[default: all]"),
              max_records: Optional[int] = typer.Option(None, help="random subsample of each data set"),
              epochs: Optional[int] = typer.Option(None, help="fine-tuning epochs [default: 100; quick: 2]")) -> None:
    """Train on NAS-Bench-101 and evaluate on every labelled family (the paper's Tables 3-6);
    resumable: finished seeds and stages are skipped."""
    import logging

    from .estimator import WEIGHTS_DIR
    from .reproduce import reproduce as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        run(out, tuple(seed), quick, preset=preset, runs_dir=runs_dir, datasets=dataset or None,
            compare_with=compare_with, seed_ensemble=seed_ensemble, max_records=max_records, epochs=epochs,
            weights_dir=(weights_dir or WEIGHTS_DIR) if ship and preset == "default" and not quick else None)
    except GennapeError as e:
        _fail(e)


if __name__ == "__main__":
    app()
