"""How many torch threads predict uses: the rule, the context manager that scopes it to one call,
and ``gennape predict --threads``."""

import random

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import gennape
from gennape.cli import app
from gennape.estimator.threads import NODES_PER_THREAD, predict_threads, torch_threads, usable_cores
from gennape.families import get


def test_the_rule_depends_only_on_the_call_size_and_the_cores():
    assert predict_threads(2_000, cores=16) == predict_threads(NODES_PER_THREAD - 1, cores=16) == 1
    assert predict_threads(4 * NODES_PER_THREAD, cores=16) == 4
    assert predict_threads(10**7, cores=16) == 15  # one core left to the rest of the machine
    assert predict_threads(10**7, cores=2) == predict_threads(10**7, cores=1) == predict_threads(0, cores=0) == 1
    assert predict_threads(10**7) == max(1, usable_cores() - 1)


def test_torch_threads_sets_them_for_the_block_only():
    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    with torch_threads(other) as n:
        assert n == torch.get_num_threads() == other
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with torch_threads(other):
            raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with torch_threads(None) as n, torch_threads(0) as m:
        assert n == m == before
    with pytest.raises(ValueError):
        with torch_threads(-1):
            pass


def test_predict_ranks_alike_on_any_thread_count():
    family = get("nb201")
    graphs = [family.to_graph(family.sample(random.Random(i))) for i in range(24)]
    est = gennape.load_estimator()
    results = []
    for n in (1, 2):
        with torch_threads(n):
            results.append((est.predict(graphs), est.predict_accuracy(graphs)))
    assert np.array_equal(results[0][0], results[1][0])  # the rank-based ensemble score
    assert np.allclose(results[0][1], results[1][1], rtol=0, atol=1e-4)  # percent


def test_predict_takes_a_thread_count(tmp_path):
    family = get("nb201")
    for i in range(3):
        g = family.to_graph(family.sample(random.Random(i)))
        g.name = f"cell{i}"
        g.save(tmp_path / f"cell{i}.npz")
    runner = CliRunner()
    outputs = [runner.invoke(app, ["predict", str(tmp_path), "--format", "csv", *extra])
               for extra in ([], ["--threads", "1"], ["--threads", "2"])]
    assert all(r.exit_code == 0 for r in outputs), outputs[0].output
    assert len({r.stdout.splitlines()[1].split(",")[1] for r in outputs}) == 1  # the same best model
    bad = runner.invoke(app, ["predict", str(tmp_path), "--threads", "-2"])
    assert bad.exit_code == 2 and bad.stderr.strip().startswith("error: --threads -2")
