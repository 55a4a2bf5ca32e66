"""Tests of gennape.model on random computation graphs (see random_graphs.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from gennape.errors import GennapeError
from gennape.graph import GraphBuilder
from gennape.model import (FEATURE_VERSION, NUM_ATTRIBUTES, FlopsAwareTransform, FuzzyCMeans, GraphEncoder,
                           MembershipWeightedHeads, MLPHead, PairwiseHead, ProjectionHead, graph_to_data,
                           graphs_to_batch, laplacian_spectra, laplacian_spectrum, mask_ops, node_features,
                           soft_contrastive_loss)
from gennape.model import spectral
from gennape.model.features import COARSE_CLASSES, FEATURE_SLICES, coarse_class
from random_graphs import random_network, random_networks, relabel


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """These tensors are tiny: on a busy machine extra threads only add waiting (10x slower here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def graphs():
    return random_networks(40, seed=1)


def chain(n: int):
    """input -> (n - 2) relus -> output: a path graph of n nodes."""
    b = GraphBuilder(f"chain{n}")
    x = b.input((3, 8, 8))
    for _ in range(n - 2):
        x = b.relu(x)
    b.output(x)
    return b.build()


# ------------------------------------------------------------------ features
def test_features_are_finite_for_large_unusual_networks():
    rng = np.random.default_rng(0)
    big = random_network(rng, 760, channels=8)
    wide = random_network(rng, 6, hw=600, channels=256)
    assert big.num_nodes > 5000 and wide.shapes[:, 0].max() == 600
    assert {"mish", "erf"} <= set(big.oov_ops)
    assert 11 in big.kernels
    for g in (big, wide):
        op, x = node_features(g)
        assert x.shape == (g.num_nodes, NUM_ATTRIBUTES) and x.dtype == np.float32
        assert np.isfinite(x).all() and np.abs(x).max() <= 10
        assert op.min() >= 0


def test_feature_values_describe_the_node():
    b = GraphBuilder("probe")
    image = b.input((64, 600, 600))
    c7 = b.conv(image, 64, 7, stride=2, bias=True)
    c11 = b.conv(c7, 64, 11, groups=64)
    mish = b.act(c11, "mish")
    norm = b.add_node("instance_norm", [mish], mish.shape)
    b.output(norm)
    g = b.build()
    _, x = node_features(g)

    def feature(name: str) -> np.ndarray:
        return x[:, FEATURE_SLICES[name]]

    kernel, stride = feature("kernel"), feature("stride")
    assert kernel[2, 0] > kernel[1, 0] > kernel[4, 0] == 0  # k = 11 > k = 7 > no kernel
    assert stride[1].tolist() == [1.0, 1.0] and stride[2].tolist() == [0.0, 0.0]
    assert feature("bias")[:3, 0].tolist() == [0, 1, 0]
    assert feature("depthwise")[:3, 0].tolist() == [0, 0, 1]
    classes = [COARSE_CLASSES[i] for i in feature("class").argmax(axis=1)]
    assert classes == ["io", "weighted", "weighted", "activation", "normalisation", "io"]
    assert feature("oov")[:, 0].tolist() == [0, 0, 0, 1, 1, 0]
    assert feature("shape")[0, 0] == pytest.approx(600 / 256)
    assert feature("log_shape")[0, 0] == pytest.approx(np.log2(601) / np.log2(257))
    assert feature("macs")[1, 0] > 0 and feature("macs")[3, 0] == 0


@pytest.mark.parametrize("name, expected", [("hardswish", "activation"), ("mish", "activation"),
                                            ("softmax", "activation"), ("global_maxpool", "pooling"),
                                            ("reducemax", "pooling"), ("rms_norm", "normalisation"),
                                            ("conv_transpose", "weighted"), ("maximum", "arithmetic"),
                                            ("shuffle", "other")])
def test_coarse_class_of_op_names(name, expected):
    assert coarse_class(name) == expected


def test_batch_conversion_matches_per_graph_conversion(graphs):
    fast = graphs_to_batch(graphs)
    slow = Batch.from_data_list([graph_to_data(g) for g in graphs])
    assert fast.num_graphs == len(graphs) == slow.num_graphs
    for key in ("op", "x", "edge_index", "batch", "ptr", "graph_macs"):
        assert torch.equal(getattr(fast, key), getattr(slow, key)), key
    assert fast.graph_macs.tolist() == [float(g.flops) for g in graphs]
    assert FEATURE_VERSION >= 1


def test_edges_point_along_the_data_flow():
    data = graph_to_data(chain(4))
    assert data.edge_index.tolist() == [[0, 1, 2], [1, 2, 3]]


def test_empty_batch_is_an_error():
    with pytest.raises(GennapeError, match="at least one graph"):
        graphs_to_batch([])


# ------------------------------------------------------------------ encoder
def test_encoder_is_invariant_to_node_order(graphs):
    torch.manual_seed(0)
    encoder = GraphEncoder(dim=16, num_layers=4)
    rng = np.random.default_rng(0)
    shuffled = [relabel(g, rng) for g in graphs[:10]]
    assert any((a.op_ids != b.op_ids).any() for a, b in zip(graphs, shuffled))
    np.testing.assert_allclose(encoder.embed(graphs[:10]), encoder.embed(shuffled), atol=1e-5)


def test_encoder_embeds_in_batches_and_distinguishes_graphs(graphs):
    torch.manual_seed(0)
    encoder = GraphEncoder()
    one_batch = encoder.embed(graphs)
    np.testing.assert_allclose(encoder.embed(graphs, batch_size=7), one_batch, atol=1e-5)
    assert one_batch.shape == (len(graphs), 32)
    assert np.linalg.matrix_rank(one_batch, tol=1e-4) > 5


def test_messages_flow_forward_only():
    torch.manual_seed(0)
    encoder = GraphEncoder(dim=8, num_layers=3)
    g = chain(6)
    batch = graphs_to_batch([g])
    x = batch.x.clone().requires_grad_(True)
    h = encoder.embedding(batch.op, x)
    for conv in encoder.convs:
        h = torch.tanh(conv(h, batch.edge_index))
    h[1].sum().backward()  # node 1 sees itself and its predecessor only
    touched = (x.grad.abs().sum(dim=1) > 0).tolist()
    assert touched == [True, True, False, False, False, False]


def test_dropout_makes_two_views_only_in_training(graphs):
    torch.manual_seed(0)
    encoder = GraphEncoder(dropout=0.2)
    batch = graphs_to_batch(graphs[:8])
    encoder.train()
    assert not torch.allclose(encoder(batch), encoder(batch))
    encoder.eval()
    assert torch.equal(encoder(batch), encoder(batch))


def test_unseen_ops_start_with_zero_embedding():
    encoder = GraphEncoder()
    assert torch.count_nonzero(encoder.embedding.op_embedding.weight) == 0


def test_op_dropout_makes_masked_nodes_look_like_unseen_ops(graphs):
    torch.manual_seed(0)
    encoder = GraphEncoder().eval()
    torch.nn.init.normal_(encoder.embedding.op_embedding.weight)  # as if every op had trained
    batch = graphs_to_batch(graphs[:8])
    plain = encoder(batch)
    assert mask_ops(batch, 0.0) is batch and "op_keep" not in batch  # rate 0: the batch untouched
    assert 0.2 < mask_ops(batch, 0.3).op_keep.mean() < 0.8 and not torch.allclose(encoder(batch), plain)
    mask_ops(batch, 1.0)  # every op masked = every op unseen: only the attribute features remain
    torch.nn.init.zeros_(encoder.embedding.op_embedding.weight)
    unseen = encoder(graphs_to_batch(graphs[:8]))
    torch.nn.init.normal_(encoder.embedding.op_embedding.weight)
    assert torch.allclose(encoder(batch), unseen)


# ------------------------------------------------------------------ spectra
def test_gennape_node_features_read_only_shape_kernel_and_bias(graphs):
    """The ablation variant sees the paper's node description only: changing a cost or class column
    leaves its embedding unchanged, changing a shape column does not; its op embedding is random."""
    torch.manual_seed(0)
    encoder = GraphEncoder(dim=16, num_layers=2, features="gennape").eval()
    assert encoder.embedding.op_embedding.weight.abs().sum() > 0
    batch = graphs_to_batch(graphs[:4])
    base = encoder(batch)
    for column, changes in (("macs", False), ("class", False), ("log_shape", False), ("shape", True)):
        edited = batch.clone()
        edited.x[:, FEATURE_SLICES[column]] += 0.5
        assert (not torch.allclose(encoder(edited), base)) == changes, column
    with pytest.raises(GennapeError, match="unknown node features 'onehot'"):
        GraphEncoder(features="onehot")


def test_spectrum_of_a_path_graph():
    n = 30
    expected = 1 - np.cos(np.pi * np.arange(n) / (n - 1))  # normalised Laplacian of the path P_n
    np.testing.assert_allclose(laplacian_spectrum(chain(n)), expected[:21], atol=1e-10)


def test_small_graphs_are_padded_with_the_spectral_upper_bound():
    s = laplacian_spectrum(chain(5))
    assert s.shape == (21,)
    np.testing.assert_allclose(s[:5], 1 - np.cos(np.pi * np.arange(5) / 4), atol=1e-10)
    assert (s[5:] == 2.0).all()


def test_sparse_and_dense_spectra_agree(monkeypatch):
    g = random_network(np.random.default_rng(2), 40, channels=8)
    dense = laplacian_spectrum(g)
    monkeypatch.setattr(spectral, "DENSE_LIMIT", g.num_nodes - 1)
    np.testing.assert_allclose(laplacian_spectrum(g), dense, atol=1e-9)


def test_spectrum_ignores_direction_and_node_order(graphs):
    rng = np.random.default_rng(3)
    s = laplacian_spectra(graphs[:5])
    np.testing.assert_allclose(laplacian_spectra([relabel(g, rng) for g in graphs[:5]]), s, atol=1e-10)
    assert s.shape == (5, 21) and (np.diff(s, axis=1) >= -1e-12).all()


# ------------------------------------------------------------------ contrastive loss
def test_contrastive_loss_prefers_aligned_views():
    torch.manual_seed(0)
    n = 16
    z1 = torch.nn.functional.normalize(torch.randn(n, 8), dim=1)
    z2 = torch.nn.functional.normalize(z1 + 0.05 * torch.randn(n, 8), dim=1)
    spectra = torch.rand(n, 21)
    aligned = soft_contrastive_loss(z1, z2, spectra)
    shuffled = soft_contrastive_loss(z1, z2[torch.randperm(n)], spectra)
    assert aligned < shuffled


def test_contrastive_loss_matches_its_definition():
    torch.manual_seed(1)
    n, tau, temp = 3, 0.5, 0.2
    z1 = torch.nn.functional.normalize(torch.randn(n, 4), dim=1)
    z2 = torch.nn.functional.normalize(torch.randn(n, 4), dim=1)
    spectra = torch.rand(n, 5)
    z, s = torch.cat([z1, z2]), torch.cat([spectra, spectra])
    total = 0.0
    for i in range(2 * n):
        others = [j for j in range(2 * n) if j != i]
        sims = torch.stack([z[i] @ z[j] / tau for j in others])
        dists = torch.stack([torch.linalg.norm(s[i] - s[j]) for j in others])
        alpha = torch.softmax(-dists / temp, dim=0)
        total = total - (alpha * torch.log_softmax(sims, dim=0)).sum()
    expected = total / (2 * n)
    assert soft_contrastive_loss(z1, z2, spectra, tau=tau, temperature=temp).item() == pytest.approx(
        expected.item(), rel=1e-5)


def test_contrastive_gradient_reaches_the_encoder(graphs):
    torch.manual_seed(0)
    encoder, proj = GraphEncoder(dropout=0.1), ProjectionHead(32, 16)
    batch = graphs_to_batch(graphs[:12])
    spectra = torch.from_numpy(laplacian_spectra(graphs[:12]))
    loss = soft_contrastive_loss(proj(encoder(batch)), proj(encoder(batch)), spectra)
    loss.backward()
    assert torch.isfinite(loss)
    for name, p in [*encoder.named_parameters(), *proj.named_parameters()]:
        if name.startswith("embedding.op_embedding"):
            continue  # rows of ops absent from the batch legitimately get no gradient
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_contrastive_loss_rejects_mismatched_views():
    with pytest.raises(GennapeError, match="views"):
        soft_contrastive_loss(torch.zeros(4, 3), torch.zeros(5, 3), torch.zeros(4, 21))


# ------------------------------------------------------------------ fuzzy C-means
def blobs(seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 5.0]])
    labels = rng.integers(0, 3, 300)
    return centres, labels, centres[labels] + rng.normal(scale=0.5, size=(300, 3))


def test_fcm_recovers_well_separated_blobs():
    centres, labels, X = blobs()
    fcm = FuzzyCMeans(3, seed=0).fit(X)
    match = np.linalg.norm(fcm.centers_[:, None] - centres[None], axis=2).argmin(axis=1)
    assert sorted(match) == [0, 1, 2]
    np.testing.assert_allclose(fcm.centers_, centres[match], atol=0.2)
    U = fcm.memberships(X)
    np.testing.assert_allclose(U.sum(axis=1), 1.0)
    assert (match[U.argmax(axis=1)] == labels).all() and U.max(axis=1).min() > 0.9
    assert fcm.n_iter_ < fcm.max_iter
    np.testing.assert_allclose(fcm.memberships_, U, atol=1e-8)


def test_fcm_memberships_follow_eq2():
    fcm = FuzzyCMeans.from_centers(np.array([[0.0, 0.0], [4.0, 0.0]]), m=2.0)
    U = fcm.memberships(np.array([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0]]))
    # d^2 = (1, 9): U = (1/1) / (1/1 + 1/9) = 0.9; a point on a centre belongs to it alone.
    np.testing.assert_allclose(U, [[0.9, 0.1], [1.0, 0.0], [0.5, 0.5]], atol=1e-12)


def test_fcm_point_on_coinciding_centres_shares_membership():
    fcm = FuzzyCMeans.from_centers(np.array([[1.0, 1.0], [1.0, 1.0], [5.0, 5.0]]))
    np.testing.assert_allclose(fcm.memberships(np.array([[1.0, 1.0]])), [[0.5, 0.5, 0.0]], atol=1e-12)


def test_fcm_rejects_bad_input():
    with pytest.raises(GennapeError, match="fuzzifier"):
        FuzzyCMeans(3, m=1.0)
    with pytest.raises(GennapeError, match="not fitted"):
        FuzzyCMeans(3).memberships(np.zeros((2, 2)))
    with pytest.raises(GennapeError, match="at least as many"):
        FuzzyCMeans(5).fit(np.zeros((3, 2)))


# ------------------------------------------------------------------ heads
def test_membership_weighted_heads_mix_head_outputs():
    torch.manual_seed(0)
    heads = MembershipWeightedHeads(8, n_heads=3)
    h = torch.randn(5, 8)
    U = torch.softmax(torch.randn(5, 3), dim=1)
    expected = sum(U[:, j] * heads.heads[j](h) for j in range(3))
    torch.testing.assert_close(heads(h, U), expected)
    one_hot = torch.eye(3)[[2, 2, 0, 1, 0]]
    torch.testing.assert_close(heads(h, one_hot)[0], heads.heads[2](h)[0])
    with pytest.raises(GennapeError, match="memberships"):
        heads(h, U[:, :2])


@pytest.mark.parametrize("n_heads", [1, 4])
def test_pairwise_head_is_antisymmetric(n_heads):
    torch.manual_seed(0)
    head = PairwiseHead(8, n_heads=n_heads)
    h_a, h_b = torch.randn(6, 8), torch.randn(6, 8)
    u_a, u_b = (torch.softmax(torch.randn(6, n_heads), dim=1) for _ in range(2))
    u_a, u_b = (u_a, u_b) if n_heads > 1 else (None, None)
    p_ab, p_ba = head(h_a, h_b, u_a, u_b), head(h_b, h_a, u_b, u_a)
    torch.testing.assert_close(p_ab + p_ba, torch.ones(6))
    torch.testing.assert_close(head(h_a, h_a, u_a, u_a), torch.full((6,), 0.5))
    assert ((p_ab > 0.5) == (head.score(h_a, u_a) > head.score(h_b, u_b))).all()


def test_fcm_pairwise_head_needs_memberships():
    with pytest.raises(GennapeError, match="memberships"):
        PairwiseHead(8, n_heads=3).score(torch.randn(2, 8))


# ------------------------------------------------------------------ label transform
def test_label_transform_round_trips_and_standardises():
    rng = np.random.default_rng(0)
    acc = rng.uniform(80, 95, 200)
    flops = rng.uniform(1e8, 1.2e10, 200)
    t = FlopsAwareTransform().fit(acc, flops)
    y = t.transform(acc, flops)
    assert y.mean() == pytest.approx(0, abs=1e-12) and y.std() == pytest.approx(1)
    np.testing.assert_allclose(t.inverse(y, flops), acc)
    restored = FlopsAwareTransform.from_dict(t.to_dict())
    np.testing.assert_allclose(restored.transform(acc, flops), y)


def test_label_transform_by_hand():
    # F = 9 GFLOPs -> divisor log10(10) + 1 = 2; F = 0 -> divisor 1.
    t = FlopsAwareTransform().fit(np.array([90.0, 60.0]), np.array([9e9, 0.0]))
    assert (t.mean_, t.std_) == (pytest.approx(52.5), pytest.approx(7.5))  # of (45, 60), population std
    assert t.transform(np.array([90.0]), np.array([9e9]))[0] == pytest.approx(-1.0)
    assert t.inverse(np.array([1.0]), np.array([0.0]))[0] == pytest.approx(60.0)


def test_label_transform_rejects_bad_input():
    with pytest.raises(GennapeError, match="not fitted"):
        FlopsAwareTransform().transform(np.ones(2), np.ones(2))
    with pytest.raises(GennapeError, match="zero spread"):
        FlopsAwareTransform().fit(np.ones(3), np.zeros(3))
    with pytest.raises(GennapeError, match="non-negative"):
        FlopsAwareTransform().fit(np.array([1.0, 2.0]), np.array([1.0, -1.0]))


# ------------------------------------------------------------------ end to end
def test_encoder_and_head_learn_log_flops():
    torch.manual_seed(0)
    train = random_networks(200, seed=5, cells=(2, 8))
    target = torch.tensor(np.log10([g.flops for g in train]), dtype=torch.float32)
    target = (target - target.mean()) / target.std()
    encoder, head = GraphEncoder(dim=32, num_layers=3), MLPHead(32)
    optimiser = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=3e-3)
    batches = [(graphs_to_batch(train[i:i + 25]), target[i:i + 25]) for i in range(0, 200, 25)]

    def epoch_loss(step: bool) -> float:
        total = 0.0
        for batch, y in batches:
            loss = torch.nn.functional.mse_loss(head(encoder(batch)), y)
            if step:
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            total += loss.item() * len(y)
        return total / 200

    with torch.no_grad():
        before = epoch_loss(step=False)
    for _ in range(40):
        epoch_loss(step=True)
    with torch.no_grad():
        after = epoch_loss(step=False)
    assert after < 0.3 * before
