"""The CG data model: building, validation, equality under isomorphism, files."""

import json
import random

import numpy as np
import pytest

from gennape.errors import GraphError
from gennape.graph import ComputeGraph, GraphBuilder, load_graphs, save_graphs
from gennape.graph.ops import OPS


def residual_block(branch_order: int = 0, c: int = 16) -> ComputeGraph:
    b = GraphBuilder("block")
    x = b.input((3, 32, 32))
    x = b.relu(b.bn(b.conv(x, c, 3)))

    def conv_branch():
        return b.relu(b.bn(b.conv(x, c, 3)))

    def pool_branch():
        return b.pool(x, "maxpool", 3)

    first, second = (conv_branch, pool_branch) if branch_order == 0 else (pool_branch, conv_branch)
    p, q = first(), second()
    y = b.add(p, q)
    b.output(b.linear(b.mean(y), 10))
    return b.build()


def random_dag(rng: random.Random, n_blocks: int) -> ComputeGraph:
    b = GraphBuilder("random")
    tensors = [b.relu(b.conv(b.input((3, 16, 16)), 8, 3))]
    for _ in range(n_blocks):
        src = rng.choice(tensors)
        kind = rng.choice(["conv", "pool", "add", "concat"])
        if kind == "conv":
            t = b.relu(b.bn(b.conv(src, 8, rng.choice([1, 3, 5]))))
        elif kind == "pool":
            t = b.pool(src, rng.choice(["maxpool", "avgpool"]), 3)
        elif kind == "add":
            t = b.add(src, rng.choice(tensors))
        else:
            t = b.conv(b.concat([src, rng.choice(tensors)]), 8, 1)
        if t.shape[0] == 8:
            tensors.append(t)
    b.output(b.linear(b.mean(tensors[-1]), 10))
    return b.build()


def permuted(g: ComputeGraph, rng: random.Random) -> ComputeGraph:
    """The same graph with its nodes stored in another (possibly non-topological) order."""
    perm = list(range(g.num_nodes))
    rng.shuffle(perm)
    perm = np.asarray(perm)  # new position of old node i is perm[i]
    inv = np.argsort(perm)
    arrays = {k: getattr(g, k)[inv] for k in ("op_ids", "shapes", "kernels", "strides", "dilations", "groups",
                                               "bias", "macs", "param_counts")}
    return ComputeGraph(edges=perm[g.edges], oov_names={int(perm[i]): n for i, n in g.oov_names.items()},
                        name=g.name, **arrays)


def test_builder_records_features_and_costs():
    g = residual_block()
    assert g.ops == ["input", "conv", "batchnorm", "relu", "conv", "batchnorm", "relu", "maxpool", "add",
                     "mean", "linear", "output"]
    conv = g.ops.index("conv")
    assert g.shapes[conv].tolist() == [32, 32, 3, 32, 32, 16]
    assert g.kernels[conv].tolist() == [3, 3]
    # conv 3->16 3x3 on 32x32: 16*3*9*1024 MACs, 432 weights; conv 16->16: 16*16*9*1024, 2304 weights
    assert g.flops == 16 * 3 * 9 * 1024 + 16 * 16 * 9 * 1024 + 16 * 10
    assert g.params == 432 + 2304 + 2 * (2 * 16) + 16 * 10 + 10
    assert g.shapes[g.ops.index("mean")].tolist() == [32, 32, 16, 1, 1, 16]


def test_depthwise_and_group_convs_are_told_apart():
    b = GraphBuilder()
    x = b.input((32, 8, 8))
    d = b.conv(x, 32, 3, groups=32)
    gc = b.conv(d, 32, 3, groups=4)
    b.output(b.conv(gc, 64, 1))
    assert b.build().ops == ["input", "depthwise", "group_conv", "conv", "output"]


def test_sum_of_three_is_two_binary_adds():
    b = GraphBuilder()
    x = b.input((4, 8, 8))
    y = b.add(b.relu(x), b.act(x, "sigmoid"), b.act(x, "tanh"))
    b.output(y)
    g = b.build()
    assert g.ops.count("add") == 2 and g.num_edges == 8


def test_unknown_op_is_kept_by_name():
    b = GraphBuilder()
    x = b.input((4, 8, 8))
    b.output(b.add_node("mish", [x], x.shape))
    g = b.build()
    assert g.ops == ["input", "mish", "output"]
    assert OPS[g.op_ids[1]] == "oov" and g.oov_ops == ["mish"]


def test_equality_ignores_node_order_but_not_features():
    a, b = residual_block(0), residual_block(1)
    assert a.num_nodes == b.num_nodes and a == b
    assert a != residual_block(0, c=8)
    # Same ops and shapes, different wiring: swap which branch feeds the add.
    bld = GraphBuilder()
    x = bld.input((3, 32, 32))
    x = bld.relu(bld.bn(bld.conv(x, 16, 3)))
    y = bld.relu(bld.bn(bld.conv(x, 16, 3)))
    z = bld.pool(y, "maxpool", 3)  # in series instead of in parallel
    bld.output(bld.linear(bld.mean(bld.add(y, z)), 10))
    assert bld.build() != a


@pytest.mark.parametrize("seed", range(6))
def test_equality_is_invariant_to_node_numbering(seed):
    rng = random.Random(seed)
    g = random_dag(rng, 25)
    h = permuted(g, rng)
    assert (h.edges[:, 0] < h.edges[:, 1]).all()  # re-sorted topologically on construction
    assert g == h and g.canonical_hash() == h.canonical_hash()
    other = random_dag(random.Random(seed + 100), 25)
    assert (g == other) == (g.canonical_form() == other.canonical_form())


def test_symmetric_parallel_branches_compare_equal():
    def two_branches(extra_on_first: bool):
        b = GraphBuilder()
        x = b.input((8, 8, 8))
        p = b.relu(b.conv(x, 8, 3))
        q = b.relu(b.conv(x, 8, 3))
        if extra_on_first:
            p = b.pool(p, "avgpool", 3)
        else:
            q = b.pool(q, "avgpool", 3)
        b.output(b.concat([p, q]))
        return b.build()
    assert two_branches(True) == two_branches(False)


def test_validation_rejects_cycles_unreachable_nodes_and_shape_mismatch():
    g = residual_block()
    arrays = {k: getattr(g, k) for k in ("op_ids", "shapes", "kernels", "strides", "dilations", "groups", "bias",
                                         "macs", "param_counts")}
    with pytest.raises(GraphError, match="cycle"):
        ComputeGraph(edges=np.vstack([g.edges, [[5, 2]]]), **arrays)
    cut = g.edges[~((g.edges[:, 0] == 0) & (g.edges[:, 1] == 1))]
    with pytest.raises(GraphError, match="not reachable"):
        ComputeGraph(edges=cut, **arrays).validate()
    bad = {**arrays, "shapes": arrays["shapes"].copy()}
    bad["shapes"][2, 2] = 24  # batchnorm claims 24 input channels after a 16-channel conv
    with pytest.raises(GraphError, match=r"node 2 \(batchnorm\) expects input"):
        ComputeGraph(edges=g.edges, **bad).validate()


def test_file_round_trip_keeps_everything(tmp_path):
    rng = random.Random(0)
    graphs = [random_dag(rng, n) for n in (3, 10, 40)]
    b = GraphBuilder("with-oov")
    x = b.input((4, 8, 8))
    b.output(b.add_node("mish", [x], x.shape))
    graphs.append(b.build())
    save_graphs(tmp_path / "g.npz", graphs)
    back = load_graphs(tmp_path / "g.npz")
    assert len(back) == 4
    for a, c in zip(graphs, back):
        assert a == c and a.name == c.name and a.oov_names == c.oov_names
        assert np.array_equal(a.shapes, c.shapes) and np.array_equal(a.edges, c.edges)
    graphs[0].save(tmp_path / "one.npz")
    assert ComputeGraph.load(tmp_path / "one.npz") == graphs[0]
    assert ComputeGraph.from_dict(json.loads(json.dumps(graphs[3].to_dict()))) == graphs[3]


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(GraphError, match="no graph file"):
        load_graphs(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(GraphError, match="not a readable gennape graph file"):
        load_graphs(junk)
    good = tmp_path / "good.npz"
    residual_block().save(good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(GraphError, match="not a readable"):
        load_graphs(truncated)


def test_failed_save_leaves_no_file(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError):
        residual_block().save(tmp_path / "g.npz")
    assert list(tmp_path.iterdir()) == []


def test_repeated_parameter_free_ops_on_one_input_are_one_node():
    b = GraphBuilder()
    x = b.input((8, 8, 8))
    r1, r2 = b.relu(x), b.relu(x)  # two ReLU modules on one tensor: one computation
    c1, c2 = b.conv(r1, 8, 3), b.conv(r2, 8, 3)  # convs own weights: always two nodes
    b.output(b.add(c1, c2))
    g = b.build()
    assert r1 == r2 and g.ops.count("relu") == 1 and g.ops.count("conv") == 2
