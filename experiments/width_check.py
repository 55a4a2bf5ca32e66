"""Width check: does an estimator rank NB-101 cells the same when the networks are built narrower?

NB-101 validation-2 cells (>= 80 %; none of the estimators trained on them) are rebuilt with stem width 16,
32 and 64 (NB-101 uses 128; NB-201's cells are 16-64 wide) and keep their measured (128-wide) labels; each
seed's estimator of a runs folder scores them. Width 128 reproduces the validation-2 number. The mean over
widths 16 and 32 is the criterion of the width_augmentation variant, fixed before measuring (docs/decisions.md);
on the default's five seeds it tracked zero-shot transfer far better than validation-2 itself (docs/transfer.md,
"Width robustness and FLOPs centring").

    python -m experiments.width_check [runs/reproduce/default ...]

Measured, 5 seeds, widths 16 / 32 / 64 / 128: the default (FLOPs centring) 0.8256 / 0.8375 / 0.8743 / 0.9175
(criterion 0.8315); before it (preset no_flops_centring: CL width views, ff65006, the same checkpoints)
0.6252 / 0.6769 / 0.8299 / 0.9181 (0.6511); before those (preset no_cl_width_views, 89767b4) 0.5593 / 0.6404 /
0.8250 / 0.9146 (0.5999).
"""

import sys
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from gennape.data import load
from gennape.estimator import Estimator
from gennape.families.nb101 import network_graph
from gennape.training import TrainConfig, split_nb101

WIDTHS = (16, 32, 64, 128)
CRITERION = (16, 32)


def main(folders: list[Path]) -> None:
    torch.set_num_threads(1)
    records = load("nb101")
    acc = np.array([r.accuracy for r in records])
    _, _, val2 = split_nb101(len(records), TrainConfig().split_seed)
    val2 = val2[acc[val2] >= TrainConfig().min_accuracy]
    graphs = {w: [network_graph(records[i].spec, stem_channels=w) for i in val2] for w in WIDTHS}
    print(f"{len(val2)} validation-2 cells >= 80 %, rebuilt at stem widths {WIDTHS}")
    for runs in folders:
        rows = []
        for seed_dir in sorted(runs.glob("nb101_seed[0-9]*")):
            if not (seed_dir / "estimator").is_dir():  # a seed still training
                continue
            est = Estimator.load(seed_dir / "estimator")
            rows.append([spearmanr(est.predict(graphs[w]), acc[val2])[0] for w in WIDTHS])
            print(f"{runs}/{seed_dir.name}: " + ", ".join(f"width {w} {v:.4f}" for w, v in zip(WIDTHS, rows[-1])),
                  flush=True)
        mean = np.mean(rows, axis=0)
        criterion = np.mean([m for w, m in zip(WIDTHS, mean) if w in CRITERION])
        print(f"{runs}: GENNAPE SRCC, mean of {len(rows)} seeds: " +
              ", ".join(f"width {w} {m:.4f}" for w, m in zip(WIDTHS, mean)) +
              f"; widths {' and '.join(map(str, CRITERION))}: {criterion:.4f}")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or [Path("runs/reproduce/default")])
