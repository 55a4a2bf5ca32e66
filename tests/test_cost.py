"""The cost of every example's graph agrees with torch's own counts: multiply-adds with
``torch.utils.flop_counter`` (an independent counter, run on a real forward) and parameters with
``model.parameters()``. Run with ``-s`` to see the agreement table."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from gennape.examples import EXAMPLES, example
from gennape.graph import from_torch

#: Published cost: (multiply-adds, parameters).
PUBLISHED = {"resnet50": (4.1e9, 25_557_032), "mobilenet_v2": (0.30e9, 3_504_872)}


def counted_macs(model: torch.nn.Module, shape) -> float:
    """Multiply-adds of one sample, by FlopCounterMode (which counts a multiply-add as 2 FLOPs)."""
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, *shape))
    return counter.get_total_flops() / 2


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_graph_cost_agrees_with_torch(name):
    model, shape = example(name)
    g = from_torch(model, shape)
    macs, params = counted_macs(model, shape), sum(p.numel() for p in model.parameters())
    print(f"\n{name:24s} CG {g.flops / 1e6:10.2f} MFLOPs  counter {macs / 1e6:10.2f}  "
          f"rel {g.flops / macs - 1:+.2e}  CG params {g.params:>10,}  torch {params:>10,}")
    assert g.flops == pytest.approx(macs, rel=0.01)
    assert g.params == params
    if name in PUBLISHED:
        assert g.flops == pytest.approx(PUBLISHED[name][0], rel=0.03)
        assert g.params == PUBLISHED[name][1]
