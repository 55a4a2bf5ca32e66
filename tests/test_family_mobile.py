"""The ImageNet mobile families (OFA-MobileNetV3, OFA-ProxylessNAS, OFA-ResNet50, Accel-NASBench):
agreement of our networks' parameters and MACs with the labelled data, the loaders, canonical specs,
spec validation, and graph / network consistency on extreme specs."""

from __future__ import annotations

import random

import pytest
import torch

from gennape.data import DataError, load
from gennape.errors import SpecError
from gennape.families import get
from gennape.families.accel_nasbench import AccelBlock, AccelSpec
from gennape.families.ofa_mbv3 import MobileNetV3Spec
from gennape.families.ofa_pn import ProxylessSpec
from gennape.families.ofa_resnet import ResNetSpec
from gennape.graph import ComputeGraph
from gennape.graph import from_torch
from gennape.graph.ops import OP_INDEX

DATA_SETS = ["accel_nasbench", "ofa_mbv3/dynast", "ofa_mbv3/moofa_compofa", "ofa_mbv3/moofa_mit"]
_loaded: dict[str, list] = {}


def records(name: str) -> list:
    if name not in _loaded:
        _loaded[name] = load(name)
    return _loaded[name]


def some(items: list, n: int = 50, seed: int = 0) -> list:
    return random.Random(seed).sample(items, n)


# ------------------------------------------------------------------ agreement with the labelled data
@pytest.mark.data("raw/ofa_mbv3_dynast")
def test_ofa_mbv3_w1_params_and_macs_equal_dynast():
    family = get("ofa_mbv3")
    for record in some(records("ofa_mbv3/dynast")):
        graph = family.to_graph(record.spec)
        assert (graph.params, graph.flops) == (record.extra["params"], record.extra["flops"]), \
            family.format(record.spec)


def thop_macs(graph: ComputeGraph) -> int:
    """MACs as thop counts them: ours plus 4 per BatchNorm output element and (H*W + 1) per output of
    a global average pool."""
    ops = graph.op_ids
    bn = graph.shapes[ops == OP_INDEX["batchnorm"], 3:].prod(axis=1).sum()
    pooled = graph.shapes[ops == OP_INDEX["mean"]]
    return graph.flops + 4 * int(bn) + int(((pooled[:, 0] * pooled[:, 1] + 1) * pooled[:, 2]).sum())


@pytest.mark.data("raw/accel_nasbench")
def test_accel_params_equal_data_and_macs_equal_thop_count():
    family = get("accel_nasbench")
    for record in some(records("accel_nasbench")):
        graph = family.to_graph(record.spec)
        assert graph.params == record.extra["params"], family.format(record.spec)
        assert thop_macs(graph) == record.extra["flops"], family.format(record.spec)
        assert 1.03 < record.extra["flops"] / graph.flops < 1.17  # thop's BN terms on top of conv MACs


# ------------------------------------------------------------------ loaders
@pytest.mark.data("raw/ofa_mbv3_dynast")
def test_dynast_loader_merges_repeated_measurements_of_one_architecture():
    recs = records("ofa_mbv3/dynast")
    assert len(recs) == 2162 and len({r.spec for r in recs}) == 2162
    assert sum(r.extra["measurements"] for r in recs) == 364 + 540 + 554 + 361 + 554
    assert all(r.spec.width == 1.0 and r.spec.resolution == 224 for r in recs)
    assert 70 < min(r.accuracy for r in recs) and max(r.accuracy for r in recs) < 78  # percent
    repeated = [r for r in recs if r.extra["measurements"] > 1]
    assert repeated and max(r.extra["accuracy_range"] for r in repeated) < 0.1


@pytest.mark.data("raw/ofa_mbv3_moofa")
def test_moofa_loaders_give_percent_accuracy_and_resolution():
    mit, comp = records("ofa_mbv3/moofa_mit"), records("ofa_mbv3/moofa_compofa")
    assert (len(mit), len(comp)) == (2610, 2080)
    for recs in (mit, comp):
        assert {r.spec.resolution for r in recs} == {128, 160, 192}
        assert all(r.extra["resolution"] == r.spec.resolution and r.extra["peak_memory"] > 0 for r in recs)
        assert 60 < min(r.accuracy for r in recs) and max(r.accuracy for r in recs) < 78
    assert "CompOFA" in comp[0].extra["supernet"]
    # CompOFA couples depth and expand ratio per stage: (2, 3), (3, 4), (4, 6)
    for r in comp:
        for stage in r.spec.stages:
            assert {e for _, e in stage} == {{2: 3, 3: 4, 4: 6}[len(stage)]}


@pytest.mark.data("raw/accel_nasbench")
def test_accel_loader_reads_every_result_in_percent_with_counts():
    recs = records("accel_nasbench")
    assert len(recs) == 5138
    assert 42 < min(r.accuracy for r in recs) and max(r.accuracy for r in recs) < 68
    first = recs[0]  # result_0.json
    assert first.accuracy == 59.368 and first.extra["params"] == 2_501_160
    assert first.extra["flops"] == 415_361_072 and "thop" in first.extra["flops_unit"]


@pytest.mark.parametrize("name", DATA_SETS)
def test_missing_data_file_raises_data_error_naming_file_and_source(tmp_path, name):
    with pytest.raises(DataError, match=r"missing data file .*raw/.*\(from .*(DyNAS-T|once-for-all|Accel-NASBench)"):
        load(name, tmp_path)


def test_malformed_dynast_row_names_file_and_line(tmp_path):
    folder = tmp_path / "raw" / "ofa_mbv3_dynast"
    folder.mkdir(parents=True)
    header = "Sub-network,Date,Model Parameters,Latency (ms),MACs,Top-1 Acc (%)\n"
    for name in ("mbnv3w10_evoga_acc.csv", "mbnv3w10_evonsga2_acc_macs.csv", "mbnv3w10_evounsga3_acc_macs_params.csv",
                 "mbnv3w10_linasga_acc.csv", "mbnv3w10_linasnsga2_acc_macs.csv"):
        (folder / name).write_text(header)
    (folder / "mbnv3w10_evoga_acc.csv").write_text(header + '"__import__(\'os\')",x,1,0,1,70.0\n')
    with pytest.raises(DataError, match=r"mbnv3w10_evoga_acc.csv, line 2"):
        load("ofa_mbv3/dynast", tmp_path)


# ------------------------------------------------------------------ canonical specs and validation
def test_mbv3_specs_that_differ_only_in_inactive_slots_are_equal():
    rng = random.Random(0)
    ks = [rng.choice((3, 5, 7)) for _ in range(20)]
    e = [rng.choice((3, 4, 6)) for _ in range(20)]
    d = [2, 3, 4, 2, 3]
    other_ks, other_e = list(ks), list(e)
    for slot in (2, 3, 19):  # past the depth of stages 1 and 5
        other_ks[slot] = 3 if ks[slot] != 3 else 5
        other_e[slot] = 3 if e[slot] != 3 else 6
    a = MobileNetV3Spec.from_slots(ks, e, d, 224, 1.0)
    b = MobileNetV3Spec.from_slots(other_ks, other_e, d, 224, 1.0)
    assert a == b and hash(a) == hash(b)
    ks[0] = 3 if ks[0] != 3 else 5  # an active slot
    assert MobileNetV3Spec.from_slots(ks, e, d, 224, 1.0) != a


def test_pn_spec_from_slots_keeps_the_fixed_last_block():
    ks, e = [3] * 20 + [7], [4] * 20 + [6]
    spec = ProxylessSpec.from_slots(ks, e, [2, 2, 2, 2, 2], 160)
    assert spec.stages[-1] == ((7, 6),) and [len(s) for s in spec.stages] == [2, 2, 2, 2, 2, 1]


def test_resnet_inactive_expand_slots_and_equal_stem_widths_are_canonical():
    e = [0.2] * 18
    a = ResNetSpec.from_slots([0, 0, 0, 0, 0], e, [1, 0, 0, 0, 0, 0], 224)
    e[2], e[17] = 0.35, 0.25  # beyond stage 1's 2 blocks and stage 4's 2 blocks
    b = ResNetSpec.from_slots([0, 0, 0, 0, 0], e, [0, 0, 0, 0, 0, 0], 224)
    assert a == b and a.widths[0] == 0  # width index 1 and 0 both give a 24-channel stem
    family = get("ofa_resnet")
    assert family.to_graph(a) == family.to_graph(ResNetSpec(0, (1, 0, 0, 0, 0, 0), a.stages, 224))


@pytest.mark.parametrize("name, bad", [
    ("ofa_mbv3", "r224_w1.2_k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4"),  # stage 1 has one block
    ("ofa_mbv3", "r224_w1.2_k9e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4"),  # kernel 9
    ("ofa_mbv3", "r226_w1.2_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4"),  # not a multiple of 4
    ("ofa_mbv3", "r224_w1.5_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4"),  # width
    ("ofa_pn", "r224_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4_k3e4.k3e4"),  # 2 blocks in stage 6
    ("ofa_resnet", "r224_d1_w000000_e20.20_e20.20_e20.20.20.20_e20.20"),  # stem depth 1
    ("ofa_resnet", "r224_d0_w000000_e20_e20.20_e20.20.20.20_e20.20"),  # stage 1 below its base depth
    ("ofa_resnet", "r224_d0_w000000_e30.20_e20.20_e20.20.20.20_e20.20"),  # e 0.30
    ("accel_nasbench", "e1k3l4s0_e1k3l1s0_e1k3l1s0_e1k3l1s0_e1k3l1s0_e1k3l1s0_e1k3l1s0"),  # 4 layers in block 0
    ("accel_nasbench", "e2k3l1s0_e1k3l1s0_e1k3l1s0_e1k3l1s0_e1k3l1s0_e1k3l1s0_e1k3l1s0"),  # e 2
    ("accel_nasbench", "e1k3l1s0"),
])
def test_malformed_or_out_of_range_spec_strings_raise_spec_error(name, bad):
    with pytest.raises(SpecError):
        get(name).parse(bad)


def test_accel_block5_alone_allows_four_layers():
    blocks = [AccelBlock(6, 5, 1, False)] * 7
    blocks[5] = AccelBlock(6, 5, 4, True)
    AccelSpec(tuple(blocks))
    blocks[4] = AccelBlock(6, 5, 4, True)
    with pytest.raises(SpecError, match="block4"):
        AccelSpec(tuple(blocks))


def test_space_sizes():
    assert get("ofa_mbv3").space_size == 7371 ** 5 * 4
    assert get("ofa_pn").space_size == 7371 ** 5 * 9 * 4
    assert get("ofa_resnet").space_size == 2 * 2 * 3 ** 5 * 117 ** 3 * 1053 * 4
    assert get("accel_nasbench").space_size == 36 ** 6 * 48


def test_mutations_keep_width_and_move_resolution_one_step():
    family, rng = get("ofa_mbv3"), random.Random(3)
    spec = family.sample(rng)
    for _ in range(200):
        child = family.mutate(spec, rng)
        assert child != spec and child.width == 1.2
        if child.resolution != spec.resolution:
            assert child.stages == spec.stages and abs(child.resolution - spec.resolution) == 32
        spec = child


# ------------------------------------------------------------------ networks and graphs on extreme specs
def extreme_specs(name: str) -> list:
    """The smallest and the largest network of each family, at the smallest resolution it allows."""
    if name == "ofa_mbv3":
        return [MobileNetV3Spec(tuple(((k, e),) * d for _ in range(5)), 128, 1.2) for k, e, d in ((3, 3, 2), (7, 6, 4))]
    if name == "ofa_pn":
        return [ProxylessSpec(tuple(((k, e),) * d for _ in range(5)) + (((k, e),),), 128)
                for k, e, d in ((3, 3, 2), (7, 6, 4))]
    if name == "ofa_resnet":
        return [ResNetSpec(d0, (w,) * 6, tuple((e,) * (base + d) for base in (2, 2, 4, 2)), 128)
                for d0, w, e, d in ((0, 0, 0.2, 0), (2, 2, 0.35, 2))]
    layers = (1, 1, 1, 1, 1, 1, 1), (3, 3, 3, 3, 3, 4, 3)
    return [AccelSpec(tuple(AccelBlock(e, k, n, se) for n in ls)) for e, k, ls, se in ((1, 3, layers[0], False),
                                                                                        (6, 5, layers[1], True))]


FAMILIES = ("ofa_mbv3", "ofa_pn", "ofa_resnet", "accel_nasbench")


@pytest.mark.parametrize("name", FAMILIES)
def test_graph_equals_converted_network_on_extreme_specs(name):
    family = get(name)
    for spec in extreme_specs(name):
        graph, converted = family.to_graph(spec), from_torch(family.build(spec), family.input_shape(spec))
        assert graph == converted, f"{family.format(spec)}: {graph.diff(converted)}"


@pytest.mark.parametrize("name", FAMILIES)
def test_smallest_network_runs_and_its_parameters_match_the_graph(name):
    family = get(name)
    spec = extreme_specs(name)[0]
    net = family.build(spec).eval()
    with torch.no_grad():
        logits = net(torch.randn(1, *family.input_shape(spec)))
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()
    assert sum(p.numel() for p in net.parameters()) == family.to_graph(spec).params


def test_resnet50_plan_inside_ofa_resnet_has_resnet50_parameters_with_ofa_stem():
    """3, 4, 6, 3 blocks at e = 0.25 and width 1.0 are ResNet-50's stages (25,557,032 parameters with
    its 7x7 stem); OFA replaces that stem by three 3x3 convs."""
    resnet = get("ofa_resnet").to_graph(ResNetSpec(2, (2,) * 6, tuple((0.25,) * n for n in (3, 4, 6, 3)), 224))
    stem_7x7 = 3 * 64 * 49 + 2 * 64
    ofa_stem = 3 * 32 * 9 + 32 * 32 * 9 + 32 * 64 * 9 + 2 * (32 + 32 + 64)
    assert resnet.params == 25_557_032 - stem_7x7 + ofa_stem


@pytest.mark.parametrize("make", [
    lambda: MobileNetV3Spec(((3, 4),) * 5, 224, 1.2),  # stages of one block as bare pairs
    lambda: MobileNetV3Spec(3, 224, 1.2),
    lambda: ProxylessSpec(tuple(((3, 4),) * 2 for _ in range(6)), 224),
    lambda: ResNetSpec(0, None, ((0.2,) * 2,) * 4, 224),
    lambda: ResNetSpec(0, (0,) * 6, (("big",) * 2,) * 4, 224),
    lambda: AccelSpec(((1, 3, 1),) * 7),
    lambda: AccelSpec(((1, 3, 1, 0),) * 7),  # se must be a bool
])
def test_spec_constructors_reject_malformed_values_with_spec_error(make):
    with pytest.raises(SpecError):
        make()
