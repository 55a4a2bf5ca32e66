"""The NB-101-only check behind fine-tuning's re-centring (``gennape.training.recentre_output``), with its
rule fixed before measuring (docs/decisions.md): fine-tune each default seed's estimator on 50 random
validation-1 cells (>= 80 %) with and without re-centring, labels (a) as measured and (b) shifted by -40
points (a data set scored in another range), and print validation-2 Spearman. Rule: adopt iff CL+FCM+T with
re-centring >= without + 0.01 on (b) and >= without - 0.005 on (a). Needs the default runs
(``python -m gennape.reproduce``, run folders under runs/reproduce/default); about 4 min on 2 cores.

    python -m experiments.fine_tune_recentring [THREADS]
"""
import copy
import sys

import numpy as np
import torch

from gennape.estimator import Estimator
from gennape.evaluation import spearman
from gennape.training import FineTuneConfig, fine_tune_members, nb101_cells, split_nb101

MEMBERS = ("cl_fcm_t", "cl", "kgnn")


def main(threads: int) -> None:
    torch.set_num_threads(threads)
    graphs, acc = nb101_cells()
    _, val1, val2 = split_nb101(len(graphs), 0)
    val1, val2 = val1[acc[val1] >= 80], val2[acc[val2] >= 80]
    results: dict[tuple, list[float]] = {}
    for seed in range(5):
        base = Estimator.load(f"runs/reproduce/default/nb101_seed{seed}/estimator")
        tune = np.random.default_rng(seed).choice(val1, 50, replace=False)
        for shift in (0.0, -40.0):
            for recentre in (False, True):
                est = copy.deepcopy(base.with_members({n: m for n, m in base.members.items() if n in MEMBERS}))
                fine_tune_members(est, [graphs[i] for i in tune], acc[tune] + shift,
                                  FineTuneConfig(epochs=100, seed=seed, recentre=recentre))
                for name, member in est.members.items():
                    member.eval()
                    score = est.predict([graphs[i] for i in val2], member=name)
                    results.setdefault((shift, recentre, name), []).append(spearman(acc[val2], score))
        print(f"seed {seed} done", flush=True)
    print("NB-101 validation-2 (>= 80 %) Spearman after 50-sample fine-tuning, mean ± std over 5 seeds:")
    for (shift, recentre, name), values in sorted(results.items()):
        mean, std = np.mean(values), np.std(values, ddof=1)
        print(f"labels {shift:+5.0f}  re-centring {recentre!s:5}  {name:9} {mean:.4f} ± {std:.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
