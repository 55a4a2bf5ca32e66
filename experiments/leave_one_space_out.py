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

A second stage, fixed before it ran, asks whether the teachers should be the spaces whose networks look
like the target's: the k spaces (NB-101 among the candidates) nearest the held-out space by the distance
between mean embeddings (no label read), per_space shares, k in NEAREST chosen by the same nested
leave-one-out (for each inner space T, its own k nearest among the spaces other than S).

Measured (5 seeds; recorded in docs/variants.md, row leave_one_space_out): the mobile spaces gain (DyNAS-T
0.961 against MACs 0.950 and GENNAPE's 0.582), the cell spaces lose what NB-101 taught them (NB-201 0.718
against 0.893). A first look before the nesting (seed 3, 2,000 anchors per label set): NB-201 0.660,
DyNAS-T 0.964, NAS-Bench-Macro 0.825, Accel-NASBench 0.242.

    python -m experiments.leave_one_space_out [seed ...]

Rerunning writes results/leave_one_space_out/raw/seed{N}.json (a finished stage is skipped) and, from every
file there, results/leave_one_space_out/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gennape import load_estimator
from gennape.estimator import Estimator, PairwiseMember, chunks, head_inputs
from gennape.evaluation import EVAL_SETS, load_sets, spearman
from gennape.training import MIN_PAIR_GAP, TrainConfig, fit, nb101_cells, split_nb101

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
WEIGHTINGS = ("per_label_set", "per_space", "nb101_half")  # the shares of the first stage (see share)
NEAREST = (1, 2, 3)  # how many nearest spaces teach, the candidates of the nearest stage


def embed(est: Estimator, graphs) -> np.ndarray:
    """(N, dim + 1): embeddings and the centred log10 GFLOPs column, as the heads read them."""
    shift = est.shift_of(graphs)
    parts = []
    with torch.no_grad():
        for chunk in chunks(graphs):
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

    fit(member, batch_loss, len(anchor_group), config.pair_epochs, config.head_batch_size, config.head_lr, seed,
        "multi-family pairwise", None, config.grad_clip, config.averaged_epochs(config.pair_epochs))
    return member.eval()


def score(member: PairwiseMember, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return member.head.score(torch.as_tensor(x, dtype=torch.float32), None).numpy()


class Seed:
    """One seed's frozen encoder, every labelled network embedded once, and the head trainer."""

    def __init__(self, seed: int, data: dict, nb101_graphs, nb101_acc):
        dataset = {s.key: s.dataset for s in EVAL_SETS.values()}
        self.seed, self.data, self.config = seed, data, TrainConfig()
        shipped = load_estimator("gennape_seeds")
        self.est = shipped.estimators[shipped.seeds.index(seed)]
        self.nb101 = (embed(self.est, nb101_graphs), nb101_acc)
        x = {}
        for key, (graphs, _) in data.items():
            if dataset[key] not in x:
                x[dataset[key]] = embed(self.est, graphs)
        self.labelled = {k: (x[dataset[k]], data[k][1]) for k in data}
        # where each space's networks sit in embedding space (the FLOPs column is centred, so left out)
        self.centre = {"nb101": self.nb101[0][:, :-1].mean(0),
                       **{s: self.labelled[ks[0]][0][:, :-1].mean(0) for s, ks in SPACES.items()}}

    def head(self, teachers: list[str], weighting: str) -> PairwiseMember:
        """A head taught by the label sets of ``teachers`` (spaces; "nb101" = NB-101's training split)."""
        groups, counts = [], []
        for t in teachers:
            keys = [None] if t == "nb101" else SPACES[t]
            groups += [self.nb101 if k is None else self.labelled[k] for k in keys]
            counts += share(weighting, t, teachers)
        return train_head(groups, counts, self.config, self.seed)

    def srcc(self, member: PairwiseMember, space: str) -> dict[str, float]:
        return {k: spearman(self.data[k][1], score(member, self.labelled[k][0])) for k in SPACES[space]}

    def mean_srcc(self, member: PairwiseMember, space: str) -> float:
        return float(np.mean(list(self.srcc(member, space).values())))

    def nearest(self, target: str, excluded: set[str]) -> list[str]:
        """Every space but ``target`` and ``excluded`` (NB-101 included), nearest to ``target`` first."""
        return sorted((s for s in self.centre if s != target and s not in excluded),
                      key=lambda s: float(np.linalg.norm(self.centre[s] - self.centre[target])))


def share(weighting: str, teacher: str, teachers: list[str]) -> list[int]:
    """Anchors per epoch of each label set of ``teacher`` among ``teachers``."""
    n = 1 if teacher == "nb101" else len(SPACES[teacher])
    if weighting == "per_label_set":  # every label set alike
        return [ANCHORS] * n
    if weighting == "per_space":  # every design space alike, split among its label sets
        return [ANCHORS // n] * n
    if weighting == "nb101_half":  # NB-101 as much as all the other spaces together, those per space
        return [ANCHORS * (len(teachers) - 1)] if teacher == "nb101" else [ANCHORS // n] * n
    raise ValueError(weighting)


def shares_stage(run: Seed) -> dict:
    """Teachers: NB-101 and every other space; their shares chosen by nested leave-one-out."""
    out = {"seed": run.seed, "inner": {}, "chosen": {}, "sets": {}}
    everyone = ["nb101", *SPACES]
    inner = {}  # (weighting, (S, T)) -> {S: mean SRCC, T: mean SRCC} of the head taught without S and T
    for weighting in WEIGHTINGS:
        for pair in itertools.combinations(SPACES, 2):
            member = run.head([t for t in everyone if t not in pair], weighting)
            inner[weighting, pair] = {s: run.mean_srcc(member, s) for s in pair}
            print(f"seed {run.seed} {weighting} without {pair}: {inner[weighting, pair]}", flush=True)
    control = run.head(["nb101"], "per_label_set")
    for space in SPACES:
        crit = {w: float(np.mean([inner[w, p][t] for p in inner_pairs(space) for t in p if t != space]))
                for w in WEIGHTINGS}
        chosen = max(WEIGHTINGS, key=crit.get)
        out["inner"][space], out["chosen"][space] = crit, chosen
        for weighting in WEIGHTINGS:
            member = run.head([t for t in everyone if t != space], weighting)
            for k, v in run.srcc(member, space).items():
                out["sets"].setdefault(k, {})[weighting] = v
        for k in SPACES[space]:
            graphs, acc = run.data[k]
            row = out["sets"][k]
            row["multi_family"] = row[chosen]
            row["nb101_only"] = spearman(acc, score(control, run.labelled[k][0]))
            row["gennape"] = spearman(acc, run.est.predict(graphs))
            row["flops"] = spearman(acc, np.array([g.flops for g in graphs], dtype=np.float64))
            print(f"seed {run.seed} {k}: " + ", ".join(f"{n} {v:.3f}" for n, v in row.items()), flush=True)
    return out


def nearest_stage(run: Seed) -> dict:
    """Teachers: the k spaces (NB-101 among them) whose networks' mean embedding is nearest the
    target's, per_space shares; k in NEAREST chosen by nested leave-one-out on the other spaces."""
    heads: dict[tuple[str, ...], PairwiseMember] = {}

    def taught(teachers: list[str]) -> PairwiseMember:
        key = tuple(sorted(teachers))
        if key not in heads:
            heads[key] = run.head(list(key), "per_space")
        return heads[key]

    out = {"inner": {}, "chosen": {}, "teachers": {}, "sets": {}}
    for space in SPACES:
        crit = {}
        for k in NEAREST:
            crit[k] = float(np.mean([run.mean_srcc(taught(run.nearest(t, {space})[:k]), t)
                                     for t in SPACES if t != space]))
        chosen = max(NEAREST, key=crit.get)
        out["inner"][space], out["chosen"][space] = crit, chosen
        out["teachers"][space] = run.nearest(space, set())
        for k in NEAREST:
            for key, v in run.srcc(taught(run.nearest(space, set())[:k]), space).items():
                out["sets"].setdefault(key, {})[f"nearest_{k}"] = v
        for key in SPACES[space]:
            row = out["sets"][key]
            row["nearest"] = row[f"nearest_{chosen}"]
            print(f"seed {run.seed} {key}: teachers {out['teachers'][space][:chosen]}, "
                  + ", ".join(f"{n} {v:.3f}" for n, v in row.items()), flush=True)
    return out


def inner_pairs(space: str):
    """The pairs {S, T} whose heads, scored on T, are S's inner folds."""
    return [p for p in itertools.combinations(SPACES, 2) if space in p]


def write_table(results: list[dict], path: Path) -> None:
    title = {s.key: s.title for s in EVAL_SETS.values()}
    seeds = [r["seed"] for r in results]

    def table(cols: dict[str, str], rows_of) -> list[str]:
        lines = ["| family | " + " | ".join(cols.values()) + " |", "|---" * (len(cols) + 1) + "|"]
        for keys in SPACES.values():
            for k in keys:
                cells = []
                for c in cols:
                    v = np.array([rows_of(r)[k][c] for r in results])
                    cells.append(f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1 else f"{v[0]:.3f}")
                lines.append(f"| {title[k]} | " + " | ".join(cells) + " |")
        return lines

    lines = ["# Leave one design space out: zero-shot SRCC of pairwise heads taught by the other families' labels",
             "", f"Generated by `python -m experiments.leave_one_space_out` (its docstring has the protocol); "
             f"mean ± sample std over seeds {', '.join(map(str, seeds))}, each seed's shipped frozen encoder "
             "(`gennape_seeds`). No number reads a label of its row's design space.", "",
             "## Every other space teaches (shares chosen by nested leave-one-out)", "",
             *table({"multi_family": "multi-family (nested choice)", "nb101_only": "NB-101 only (control)",
                     "gennape": "GENNAPE (NB-101)", "flops": "FLOPs",
                     **{w: f"{w} (not nested)" for w in WEIGHTINGS}}, lambda r: r["sets"]),
             "", "Shares chosen, per held-out space and seed:", ""]
    for space in SPACES:
        lines.append(f"- {space}: " + ", ".join(f"seed {r['seed']} {r['chosen'][space]}" for r in results))
    if all("nearest" in r for r in results):
        lines += ["", "## The nearest spaces teach (how many chosen by nested leave-one-out)", "",
                  "Nearest: by the distance between the mean embeddings of two spaces' networks (no label); "
                  "NB-101 is one of the candidates.", "",
                  *table({"nearest": "nearest k (nested choice)",
                          **{f"nearest_{k}": f"nearest {k} (not nested)" for k in NEAREST}},
                         lambda r: r["nearest"]["sets"]),
                  "", "Teachers chosen, per held-out space and seed:", ""]
        for space in SPACES:
            lines.append(f"- {space}: " + "; ".join(
                f"seed {r['seed']} {', '.join(r['nearest']['teachers'][space][:r['nearest']['chosen'][space]])}"
                for r in results))
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=Path("results/leave_one_space_out"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    raw = args.out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    files = {seed: raw / f"seed{seed}.json" for seed in args.seeds}
    done = {seed: json.loads(p.read_text()) if p.is_file() else {} for seed, p in files.items()}
    todo = [seed for seed in args.seeds if "nearest" not in done[seed]]
    if todo:
        data = load_sets(EVAL_SETS.values())
        graphs, acc = nb101_cells()
        train_idx = split_nb101(len(graphs), TrainConfig().split_seed)[0]
        for seed in todo:
            run = Seed(seed, data, [graphs[i] for i in train_idx], acc[train_idx])
            result = done[seed] or shares_stage(run)
            files[seed].write_text(json.dumps(result, indent=1))
            result["nearest"] = nearest_stage(run)
            files[seed].write_text(json.dumps(result, indent=1))
    results = [json.loads(p.read_text()) for p in sorted(raw.glob("seed[0-9]*.json"))]
    write_table(results, args.out / "README.md")


if __name__ == "__main__":
    main()
