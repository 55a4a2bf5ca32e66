"""Contract tests run on every registered family: string round trip, sampling, mutation, graph
equality with the converted PyTorch network, a real forward pass, hashing and enumeration."""

from __future__ import annotations

import functools
import random

import pytest
import torch

from gennape.families import get, names
from gennape.graph import from_torch
from gennape.graph.ops import OP_INDEX

FAMILIES = names()


@functools.lru_cache(maxsize=None)
def specs(name: str, n: int = 3) -> tuple:
    rng = random.Random(f"{name}-{n}")
    family = get(name)
    return tuple(family.sample(rng) for _ in range(n))


@pytest.mark.parametrize("name", FAMILIES)
def test_format_parse_round_trip(name):
    family = get(name)
    for spec in specs(name, 5):
        text = family.format(spec)
        assert family.parse(text) == spec
        assert family.format(family.parse(text)) == text


@pytest.mark.parametrize("name", FAMILIES)
def test_samples_give_valid_graphs_of_the_declared_input(name):
    family = get(name)
    for spec in specs(name, 5):
        graph = family.to_graph(spec).validate()
        (inp,) = graph.input_nodes
        c, h, w = family.input_shape(spec)
        assert tuple(graph.shapes[inp, 3:]) == (h, w, c)


@pytest.mark.parametrize("name", FAMILIES)
def test_mutation_gives_a_different_valid_spec(name):
    family = get(name)
    rng = random.Random(name)
    for spec in specs(name, 5):
        child = family.mutate(spec, rng)
        assert child != spec
        assert family.parse(family.format(child)) == child
        family.to_graph(child).validate()


@pytest.mark.parametrize("name", FAMILIES)
def test_equal_specs_are_one_hash_key_and_give_equal_graphs(name):
    family = get(name)
    spec = specs(name)[0]
    twin = family.parse(family.format(spec))
    assert twin == spec and hash(twin) == hash(spec)
    assert {spec: 1}[twin] == 1
    assert family.to_graph(twin) == family.to_graph(spec)


def _check_graph_equals_converted_network(name: str, n: int) -> None:
    family = get(name)
    for spec in specs(name, n):
        graph = family.to_graph(spec)
        converted = from_torch(family.build(spec), family.input_shape(spec))
        assert graph == converted, f"{family.format(spec)}: {graph.diff(converted)}"


@pytest.mark.parametrize("name", FAMILIES)
def test_to_graph_equals_converted_network(name):
    _check_graph_equals_converted_network(name, 3)


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILIES)
def test_to_graph_equals_converted_network_on_20_specs(name):
    _check_graph_equals_converted_network(name, 20)


@pytest.mark.parametrize("name", FAMILIES)
def test_built_network_gives_logits_of_the_graph_output_size(name):
    family = get(name)
    torch.manual_seed(0)
    for spec in specs(name):
        graph = family.to_graph(spec)
        classes = int(graph.shapes[graph.op_ids == OP_INDEX["output"]][0, 5])
        net = family.build(spec).eval()
        with torch.no_grad():
            logits = net(torch.randn(2, *family.input_shape(spec)))
        assert logits.shape == (2, classes)
        assert torch.isfinite(logits).all()


ENUMERABLE = ["hiaml", "nas_bench_macro", "nb201", "transnas_macro", "transnas_micro"]


@pytest.mark.parametrize("name", ENUMERABLE)
def test_enumerate_lists_each_spec_of_the_space_once(name):
    listed = list(get(name).enumerate())
    assert len(listed) == get(name).space_size
    assert len(set(listed)) == len(listed)


@pytest.mark.parametrize("name", sorted(set(FAMILIES) - set(ENUMERABLE)))
def test_large_spaces_refuse_to_enumerate(name):
    with pytest.raises(NotImplementedError, match=name):
        next(iter(get(name).enumerate()))
