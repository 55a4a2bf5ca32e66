"""live_graph: what a network computes, without the computation that only zero ops consume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from random_graphs import random_networks
from test_estimator import make_estimator

from gennape.errors import GennapeError
from gennape.families.nb201 import NB201Family, NB201Spec
from gennape.families.transnas import MicroSpec, TransNASMicro
from gennape.graph import GraphBuilder
from gennape.graph.live import live_graph

torch.set_num_threads(1)
FAMILY = NB201Family()


# node 1's 3x3 conv reaches the output only through `none` edges, so DEAD_CONV and NO_CONV compute skip(input)
DEAD_CONV = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
NO_CONV = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
CONVS = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
CONSTANT = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|"  # node 3 is all zeros


def nb201(text: str):
    return FAMILY.to_graph(NB201Spec.parse(text))


def test_graph_without_zero_ops_is_returned_as_is():
    for g in random_networks(10, seed=2):
        assert "zero" not in g.ops and live_graph(g) is g


def test_computation_feeding_only_a_zero_op_is_dropped():
    b = GraphBuilder()
    x = b.input((8, 8, 4))
    dead = b.relu(b.conv(x, 4, 3, padding=1))  # read only by the zero op
    y = b.add(b.conv(x, 4, 1), b.zero(dead))
    b.output(y)
    g = b.build()
    live = live_graph(g)
    assert live.ops == ["input", "conv", "add", "output"]
    assert live.flops == g.flops - g.macs[g.ops.index("conv")]
    assert live.validate().num_edges == 3


def test_functionally_equal_nb201_cells_have_equal_live_graphs():
    dead_conv = nb201(DEAD_CONV)
    no_conv = nb201(NO_CONV)
    assert dead_conv != no_conv
    assert live_graph(dead_conv) == live_graph(no_conv)
    assert live_graph(dead_conv).flops < dead_conv.flops and "zero" not in live_graph(dead_conv).ops
    # a live conv stays
    live_conv = nb201("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|none~2|")
    assert live_graph(live_conv).flops > live_graph(no_conv).flops


def test_network_whose_output_ignores_its_input_has_no_live_graph():
    assert live_graph(nb201(CONSTANT)) is None


def test_transnas_reduction_cells_lose_their_dead_branches_too():
    family = TransNASMicro()
    g = family.to_graph(MicroSpec((3, 0, 3, 1, 0, 0)))  # node 2's conv feeds only `none` edges
    live = live_graph(g)
    assert "zero" in g.ops and "zero" not in live.ops and live.flops < g.flops
    assert live.validate() is live


def test_estimator_reads_live_graphs():
    est = make_estimator(random_networks(20, seed=3))
    dead_conv = nb201(DEAD_CONV)
    no_conv = nb201(NO_CONV)
    other = nb201(CONVS)
    scores = est.member_scores([dead_conv, no_conv, other], list(est.members))
    for name, s in scores.items():
        assert np.isclose(s[0], s[1]), name
        assert not np.isclose(s[0], s[2]), name


def test_estimator_ranks_constant_output_networks_last():
    est = make_estimator(random_networks(20, seed=3))
    constant = nb201(CONSTANT)
    others = [nb201(CONVS), nb201(NO_CONV)]
    graphs = [others[0], constant, others[1]]
    scores = est.member_scores(graphs, list(est.members))
    alone = est.member_scores(others, list(est.members))
    for name, s in scores.items():
        floor = 10.0 if est.members[name].target != "score" else -np.inf  # NB-201 has 10 classes
        assert s[1] == floor and (s[[0, 2]] > floor).all(), name
        np.testing.assert_allclose(s[[0, 2]], alone[name], err_msg=name)  # the others are scored as without it
    assert est.predict(graphs).argmin() == 1
    assert np.isfinite(est.predict(graphs)).all()


def test_constant_output_samples_train_no_head():
    est = make_estimator(random_networks(20, seed=3))
    graphs = [nb201(s) for s in (
        CONVS, NO_CONV, "|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_3x3~0|none~1|none~2|")]
    acc = np.array([90.0, 70.0, 85.0])
    tuned = est.fine_tune([*graphs, nb201(CONSTANT)], [*acc, 10.0], epochs=2)
    same = est.fine_tune(graphs, acc, epochs=2)
    for name in est.members:
        np.testing.assert_allclose(tuned.predict(graphs, name), same.predict(graphs, name), err_msg=name)
    with pytest.raises(GennapeError, match="compute a constant"):
        est.fine_tune([graphs[0], nb201(CONSTANT)], [90.0, 10.0], epochs=1)


def test_fine_tuned_accuracy_members_predict_constants_at_their_samples_label(tmp_path):
    # on Taskonomy a constant network scores the majority class's share, not 100 / C
    est = make_estimator(random_networks(20, seed=3))
    graphs = [nb201(s) for s in (CONVS, NO_CONV, DEAD_CONV)]
    constants = [nb201(CONSTANT), nb201("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")]
    assert est.constant_accuracy is None
    assert est.fine_tune(graphs, [90.0, 70.0, 70.0], epochs=1).constant_accuracy is None  # none among samples
    tuned = est.fine_tune([*graphs, *constants], [90.0, 70.0, 70.0, 26.0, 27.0], epochs=1)
    assert tuned.constant_accuracy == 26.5
    reloaded = type(est).load(tuned.save(tmp_path))
    for e in (tuned, reloaded):
        scores = e.member_scores([graphs[0], *constants], list(e.members))
        for name, s in scores.items():
            expected = -np.inf if e.members[name].target == "score" else 26.5
            assert (s[1:] == expected).all(), name
