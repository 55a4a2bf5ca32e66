"""Print how the graph cost of every example model agrees with torch's counters.

MFLOPs are millions of multiply-adds: the graph's ``flops`` against half of
``torch.utils.flop_counter.FlopCounterMode``'s total on one real sample; params against
``sum(p.numel() for p in model.parameters())``.

    python benchmarks/cost_agreement.py
"""

import torch
from torch.utils.flop_counter import FlopCounterMode

from gennape.errors import GennapeError
from gennape.examples import EXAMPLES, example
from gennape.graph import from_torch


def main() -> None:
    print(f"{'model':24s} {'CG MFLOPs':>11s} {'counter/2':>11s} {'rel diff':>9s} {'CG params':>11s} "
          f"{'torch params':>12s}")
    for name in EXAMPLES:
        model, shape = example(name)
        try:
            g = from_torch(model, shape)
        except GennapeError as e:
            print(f"{name:24s} conversion failed: {e}")
            continue
        model.eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.randn(1, *shape))
        macs = counter.get_total_flops() / 2
        params = sum(p.numel() for p in model.parameters())
        print(f"{name:24s} {g.flops / 1e6:11.2f} {macs / 1e6:11.2f} {g.flops / macs - 1:+9.1e} "
              f"{g.params:11,} {params:12,}")


if __name__ == "__main__":
    main()
