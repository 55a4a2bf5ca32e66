"""Leave one design space out: a pairwise head trained on the labels of every OTHER family.

GENNAPE pre-trains on NB-101 alone, whose networks all share one width and one stem: nothing in its labels
says that a wider or deeper network of the same blocks is more accurate, which is most of what ranks the
mobile spaces (FLOPs SRCC 0.93-0.96 on OFA-MBv3). Here each shipped seed's frozen encoder (``gennape_seeds``:
CL, then Eq. 5 tuning on NB-101) embeds every labelled family; for each held-out design space a fresh
pairwise head ("which is better", as CL+Pairwise) is trained on within-family pairs of NB-101's training
split and of every other space's label sets, and scores the held-out space's networks. No label of the
held-out space is read, so its numbers are zero-shot with respect to it. Every family's FLOPs column is
read centred, as at prediction.

Fixed before measuring (no choice looks at a held-out label): the default pairwise settings (3 x 32 MLP
with the FLOPs column, Adam 1e-3, batch 32, 40 epochs, weights averaged over the last 20); each anchor is
paired with a random network of its own label set. How many anchors each label set gives per epoch is the
one choice, among three candidates (WEIGHTINGS), made for each held-out space S by nested leave-one-out on
the other spaces: candidate c scores the mean over spaces T != S of its head trained without S and T,
scored on T (a head trained without {S, T} serves both S's and T's inner folds). NB-101, the pre-training
family, is never held out. The control "NB-101 only" runs the same trainer on NB-101 alone.

Measured (session 12, 5 seeds, results/leave_one_space_out/README.md): the mobile spaces gain (DyNAS-T
0.961 against MACs 0.950 and GENNAPE's 0.582), the cell spaces lose what NB-101 taught them (NB-201 0.718
against 0.893). A first look before the nesting (seed 3, 2,000 anchors per label set): NB-201 0.660,
DyNAS-T 0.964, NAS-Bench-Macro 0.825, Accel-NASBench 0.242.

    python experiments/leave_one_space_out.py [seed ...]

Writes results/leave_one_space_out/raw/seed{N}.json (a seed with a file is skipped) and, from every file
there, results/leave_one_space_out/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gennape import SEED_ENSEMBLE_SUBDIR
from gennape.estimator import WEIGHTS_DIR, Estimator, PairwiseMember, _chunks, head_inputs
from gennape.metrics import spearman
from gennape.reproduce import EVAL_SETS, load_sets
from gennape.train import MIN_PAIR_GAP, TrainConfig, _fit, load_nb101, split_nb101

SPACES = {  # held-out design space -> its eval sets (every label set of the same networks goes together)
    "nb201": ("nb201/no_none", "nb201/no_none:cifar100", "nb201/no_none:imagenet16_120", "nb201"),
    "ofa_mbv3": ("ofa_mbv3/dynast", "ofa_mbv3/moofa_mit", "ofa_mbv3/moofa_compofa"),
    "nb301": ("nb301",),
    "nas_bench_macro": ("nas_bench_macro",),
    "accel_nasbench": ("accel_nasbench",),
    "transnas_macro": ("transnas_macro/class_object", "transnas_macro/class_scene"),
    "transnas_micro": ("transnas_micro/class_object", "transnas_micro/class_scene"),
}
ANCHORS = 1000  # anchors per epoch of one unit of weight


def anchors(weighting: str, spaces: list[str]) -> list[int]:
    """Anchors per epoch of NB-101 and of each label set of ``spaces`` (in SPACES order)."""
    sets = [len(SPACES[s]) for s in spaces]
    if weighting == "per_label_set":  # every label set alike, NB-101 one of them
        return [ANCHORS] + [ANCHORS for n in sets for _ in range(n)]
    if weighting == "per_space":  # every design space alike, split among its label sets
        return [ANCHORS] + [ANCHORS // n for n in sets for _ in range(n)]
    if weighting == "nb101_half":  # NB-101 as much as all other spaces together, those per space
        return [ANCHORS * len(spaces)] + [ANCHORS // n for n in sets for _ in range(n)]
    raise ValueError(weighting)


WEIGHTINGS = ("per_label_set", "per_space", "nb101_half")


def embed(est: Estimator, graphs) -> np.ndarray:
    """(N, dim + 1): embeddings and the centred log10 GFLOPs column, as the heads read them."""
    shift = est.shift_of(graphs)
    parts = []
    with torch.no_grad():
        for chunk in _chunks(graphs):
            inputs = est.shared_inputs(chunk, shift)
            parts.append(head_inputs(inputs.embeddings, inputs.read_macs, True).numpy())
    return np.concatenate(parts)


def train_head(groups: list[tuple[np.ndarray, np.ndarray]], counts: list[int], config: TrainConfig,
               seed: int) -> PairwiseMember:
    """A pairwise head on within-group pairs; group i gives counts[i] anchors per epoch."""
    torch.manual_seed(seed)
    member = PairwiseMember(1, config.dim, config.head_hidden, config.head_layers, True)
    h = torch.as_tensor(np.concatenate([x for x, _ in groups]), dtype=torch.float32)
    acc = np.concatenate([a for _, a in groups])
    sizes = np.array([len(a) for _, a in groups])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    anchor_group = np.repeat(np.arange(len(groups)), counts)

    def batch_loss(idx, rng):
        g = anchor_group[idx]
        a = starts[g] + rng.integers(sizes[g])
        b = starts[g] + rng.integers(sizes[g])
        keep = np.abs(acc[a] - acc[b]) >= MIN_PAIR_GAP
        a, b = a[keep], b[keep]
        if not len(a):
            return None
        s = member.head.score(h[np.r_[a, b]], None)
        return F.binary_cross_entropy_with_logits(s[:len(a)] - s[len(a):],
                                                  torch.as_tensor(acc[a] > acc[b], dtype=torch.float32))

    _fit(member, batch_loss, len(anchor_group), config.pair_epochs, config.head_batch_size, config.head_lr, seed,
         "multi-family pairwise", None, config.grad_clip, config.averaged_epochs(config.pair_epochs))
    return member.eval()


def score(member: PairwiseMember, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return member.head.score(torch.as_tensor(x, dtype=torch.float32), None).numpy()


def run_seed(seed: int, data: dict, nb101_graphs, nb101_acc) -> dict:
    config = TrainConfig()
    dataset = {s.key: s.dataset for s in EVAL_SETS}
    est = Estimator.load(WEIGHTS_DIR / SEED_ENSEMBLE_SUBDIR / f"seed{seed}")
    nb101 = (embed(est, nb101_graphs), nb101_acc)
    x = {}
    for key, (graphs, _) in data.items():
        if dataset[key] not in x:
            x[dataset[key]] = embed(est, graphs)
    labelled = {k: (x[dataset[k]], data[k][1]) for k in data}

    def head_without(held: set[str], weighting: str) -> PairwiseMember:
        train = [s for s in SPACES if s not in held]
        groups = [nb101] + [labelled[k] for s in train for k in SPACES[s]]
        return train_head(groups, anchors(weighting, train), config, seed)

    def srcc(member, space) -> dict[str, float]:
        return {k: spearman(data[k][1], score(member, labelled[k][0])) for k in SPACES[space]}

    out = {"seed": seed, "inner": {}, "chosen": {}, "sets": {}}
    inner = {}  # (weighting, frozenset{S, T}) -> {S: mean SRCC, T: mean SRCC}
    for weighting in WEIGHTINGS:
        for pair in itertools.combinations(SPACES, 2):
            member = head_without(set(pair), weighting)
            inner[weighting, pair] = {s: float(np.mean(list(srcc(member, s).values()))) for s in pair}
            print(f"seed {seed} {weighting} without {pair}: {inner[weighting, pair]}", flush=True)
    control = head_without(set(SPACES), "per_label_set")
    for space in SPACES:
        crit = {w: float(np.mean([inner[w, p][t] for p in inner_pairs(space) for t in p if t != space]))
                for w in WEIGHTINGS}
        chosen = max(WEIGHTINGS, key=crit.get)
        out["inner"][space], out["chosen"][space] = crit, chosen
        for weighting in WEIGHTINGS:
            member = head_without({space}, weighting)
            for k, v in srcc(member, space).items():
                out["sets"].setdefault(k, {})[weighting] = v
        for k, (graphs, acc) in ((k, data[k]) for k in SPACES[space]):
            row = out["sets"][k]
            row["multi_family"] = row[chosen]
            row["nb101_only"] = spearman(acc, score(control, labelled[k][0]))
            row["gennape"] = spearman(acc, est.predict(graphs))
            row["flops"] = spearman(acc, np.array([g.flops for g in graphs], dtype=np.float64))
            print(f"seed {seed} {k}: " + ", ".join(f"{n} {v:.3f}" for n, v in row.items()), flush=True)
    return out


def inner_pairs(space: str):
    """The pairs {S, T} whose heads, scored on T, are S's inner folds."""
    return [p for p in itertools.combinations(SPACES, 2) if space in p]


def write_table(results: list[dict], path: Path) -> None:
    cols = ("multi_family", "nb101_only", "gennape", "flops", *WEIGHTINGS)
    names = {"multi_family": "multi-family (nested choice)", "nb101_only": "NB-101 only (control)",
             "gennape": "GENNAPE (NB-101)", "flops": "FLOPs", **{w: f"{w} (not nested)" for w in WEIGHTINGS}}
    title = {s.key: s.title for s in EVAL_SETS}
    seeds = [r["seed"] for r in results]
    lines = ["# Leave one design space out: zero-shot SRCC of a pairwise head trained on the other families' labels",
             "", f"Generated by `python experiments/leave_one_space_out.py` (its docstring has the protocol); "
             f"mean ± sample std over seeds {', '.join(map(str, seeds))}, each seed's shipped frozen encoder "
             "(`gennape_seeds`). No number reads a label of its row's design space.", "",
             "| family | " + " | ".join(names[c] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for keys in SPACES.values():
        for k in keys:
            cells = []
            for c in cols:
                v = np.array([r["sets"][k][c] for r in results])
                cells.append(f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1 else f"{v[0]:.3f}")
            lines.append(f"| {title[k]} | " + " | ".join(cells) + " |")
    lines += ["", "Weighting chosen by the nested criterion, per held-out space and seed:", ""]
    for space in SPACES:
        lines.append(f"- {space}: " + ", ".join(f"seed {r['seed']} {r['chosen'][space]}" for r in results))
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=Path("results/leave_one_space_out"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    raw = args.out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    todo = [s for s in args.seeds if not (raw / f"seed{s}.json").is_file()]
    if todo:
        data = load_sets(EVAL_SETS)
        graphs, acc = load_nb101()
        train_idx = split_nb101(len(graphs), TrainConfig().split_seed)[0]
        for seed in todo:
            result = run_seed(seed, data, [graphs[i] for i in train_idx], acc[train_idx])
            (raw / f"seed{seed}.json").write_text(json.dumps(result, indent=1))
    results = [json.loads(p.read_text()) for p in sorted(raw.glob("seed[0-9]*.json"))]
    write_table(results, args.out / "README.md")


if __name__ == "__main__":
    main()
