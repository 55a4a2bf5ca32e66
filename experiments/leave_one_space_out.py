"""Leave-one-design-space-out check of gennape.multi_family on one trained seed: python experiments/leave_one_space_out.py SEED"""
import json
import logging
import sys
import time

import numpy as np

from gennape import multi_family as mf
from gennape.estimator import Estimator
from gennape.reproduce import EVAL_SETS, load_sets
from gennape.train import TrainConfig, load_nb101, split_nb101

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
seed = int(sys.argv[1])
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else None
run = f"runs/reproduce/default/nb101_seed{seed}"
est = Estimator.load(f"{run}/estimator")
cfg = TrainConfig()
t=time.time()
data = load_sets(EVAL_SETS)
g, acc = load_nb101()
train, _, _ = split_nb101(len(g), cfg.split_seed)
nb = (mf.ranker_inputs(est, [g[i] for i in train]), acc[train])
inputs = {k: mf.ranker_inputs(est, data[k][0]) for k in data}
print("inputs", time.time()-t, flush=True)
z = np.load(f"{run}/zero_shot.npz")
gen = {k: z[f"{k}|gennape"].astype(np.float64) for k in data}
res = mf.leave_one_space_out(est, nb, inputs, data, gen, cfg, seed, epochs=epochs)
with open(f"runs/loso/seed{seed}.json", "w") as f:
    json.dump(res, f, indent=1)
print("total", time.time()-t)
