"""Scale check of the node features (pre-registered, session 9): does the estimator rank NB-101 cells the
same when the network is built narrower?

NB-101 validation-2 cells (>= 80 %) are rebuilt with stem width 16 and 32 (NB-101 uses 128), keeping their
measured labels, and each default seed's estimator scores them twice with the same weights: shapes in
NB-101 units (node features "attributes", version 2) and shapes as they are ("absolute", version 1).
Rule written before running it: v2 stays the default iff its GENNAPE Spearman, mean over the seeds and
both widths, is >= v1's. Width 128 is the check that both read NB-101 itself identically.

    python experiments/scale_check_nb101_units.py [runs/reproduce/default]   # at commit f3739e8 (features v2)

Measured (runs/reproduce/default, 5 seeds): v2 0.427 / 0.509 at widths 16 / 32, v1 0.559 / 0.640, both 0.9146 at 128:
v2 lost, and the code of v2 was reverted in the following commit (results/nb101_units keeps its numbers).
"""

import sys
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from gennape.data import load
from gennape.estimator import Estimator
from gennape.families.nb101 import network_graph
from gennape.model.encoder import NODE_FEATURES, NodeEmbedding
from gennape.train import TrainConfig, split_nb101

WIDTHS = (16, 32, 128)


def with_features(est: Estimator, features: str) -> Estimator:
    """The same estimator reading another node-feature variant (same column order, same weights)."""
    for module in [est.encoder, *est.members.values()]:
        for m in module.modules():
            if isinstance(m, NodeEmbedding):
                m.features, m.columns = features, torch.as_tensor(NODE_FEATURES[features])
    return est


def main(runs: Path) -> None:
    torch.set_num_threads(1)
    records = load("nb101")
    acc = np.array([r.accuracy for r in records])
    _, _, val2 = split_nb101(len(records), TrainConfig().split_seed)
    val2 = val2[acc[val2] >= TrainConfig().min_accuracy]
    graphs = {w: [network_graph(records[i].spec, stem_channels=w) for i in val2] for w in WIDTHS}
    print(f"{len(val2)} validation-2 cells >= 80 %, rebuilt at stem widths {WIDTHS}")
    table = {}
    for seed_dir in sorted(runs.glob("nb101_seed[0-9]*")):
        for features in ("attributes", "absolute"):
            est = with_features(Estimator.load(seed_dir / "estimator"), features)
            for w in WIDTHS:
                table[seed_dir.name, features, w] = spearmanr(est.predict(graphs[w]), acc[val2])[0]
        print(seed_dir.name, "  ".join(f"{f} w{w} {table[seed_dir.name, f, w]:.4f}"
                                       for f in ("attributes", "absolute") for w in WIDTHS), flush=True)
    seeds = sorted({k[0] for k in table})
    for features in ("attributes", "absolute"):
        per_width = {w: np.mean([table[s, features, w] for s in seeds]) for w in WIDTHS}
        narrow = np.mean([per_width[w] for w in WIDTHS if w != 128])
        print(f"{features:10s} GENNAPE SRCC, mean of {len(seeds)} seeds: " +
              ", ".join(f"width {w} {v:.4f}" for w, v in per_width.items()) + f"; widths 16 and 32: {narrow:.4f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/reproduce/default"))
