"""Training GENNAPE's estimator on NAS-Bench-101, stage by stage: contrastive pre-training, encoder
tuning, fuzzy C-means, the heads, the end-to-end GNNs, and the assembled
:class:`~gennape.estimator.Estimator` with its validation-2 metrics.

Protocol (GENNAPE §7): one seeded 80/10/10 split of the NB-101 cells (validation-1 is every stage's
validation set, validation-2 is only reported); cells below ``min_accuracy`` are removed from every
split for the Eq. 5 ("T") members and kept for the others. Every choice is made on NB-101
validation data (docs/decisions.md). Stages checkpoint into the run folder; rerunning
:func:`train_estimator` skips finished stages.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import GennapeError
from ..estimator import Estimator, FlopsMember, GNNMember, PairwiseMember, RegressionMember, head_inputs
from ..evaluation.protocol import zero_shot
from ..graph.compute_graph import ComputeGraph
from ..model import FlopsAwareTransform, FuzzyCMeans, GraphEncoder, laplacian_spectra, log10_gflops
from .config import INTRODUCED_LATER, PREDICTION_ONLY, TrainConfig, check_combination
from .nb101 import RandomWidths, graphs_digest, nb101_cells, sample_design_spaces, split_nb101, widths_of_nb101
from .stages import fit_gnn, fit_pairwise_head, fit_regression_head, pretrain_encoder, tune_encoder

log = logging.getLogger("gennape.training")


def train_estimator(config: TrainConfig, seed: int, out_dir: str | Path) -> Estimator:
    """Train every member on NB-101 and write checkpoints, ``estimator/`` and ``metrics.json``
    (metrics of every member and the ensemble on the validation-2 cells >= ``min_accuracy``, the
    set on which the Eq. 5 members are judged) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    graphs, acc = nb101_cells(config.max_cells)
    _claim_folder(out, config, seed, graphs)
    run = NB101Run(config, seed, out, graphs, acc)
    encoder = run.encoder()
    start = time.perf_counter()
    emb = encoder.embed(graphs)
    log.info("embedded %d graphs in %.1f s", len(graphs), time.perf_counter() - start)
    fcm = run.fcm(emb)
    members = run.heads(emb, fcm.memberships(emb))
    gnns = {conv: run.gnn(conv) for conv in ("kgnn", *config.baselines)}
    members["kgnn"] = gnns["kgnn"]
    members["flops"] = FlopsMember()

    centre = float(np.median(log10_gflops(run.macs[run.train]))) if config.flops_centring else None
    est = Estimator(encoder, fcm, run.transform, run.acc_stats, members,
                    info={"trained_on": "NB-101 (20,001-cell sample), CIFAR-10 108-epoch validation accuracy",
                          "config": dataclasses.asdict(config), "seed": seed}, flops_centre=centre)
    val1_scores = est.member_scores(run.pick(run.val1_t), list(members))
    est.scales = {n: (float(s.mean()), float(s.std()) or 1.0) for n, s in val1_scores.items()}
    # the GCN and GIN baselines are reported, not shipped: they are no ensemble members
    reported = est.with_members({**members, **gnns})
    metrics = zero_shot(reported, run.pick(run.val2_t), acc[run.val2_t])
    est.info["nb101_val2"] = metrics
    est.save(out / "estimator")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    for name, m in metrics.items():
        log.info("val-2 %-16s %s", name, ", ".join(f"{k} {v:.4f}" for k, v in m.items()))
    return est


def _claim_folder(out: Path, config: TrainConfig, seed: int, graphs: Sequence[ComputeGraph]) -> None:
    """Write the run's settings to ``out/config.json``, unless ``out`` holds a run its checkpoints
    could not be resumed from (other training settings, seed or NB-101 graphs)."""
    run = {**dataclasses.asdict(config), "baselines": list(config.baselines),
           "width_augmentation": list(config.width_augmentation), "cl_width_views": list(config.cl_width_views),
           "seed": seed, "graphs_digest": graphs_digest(graphs)}
    written = json.loads((out / "config.json").read_text()) if (out / "config.json").is_file() else run

    def trained_by(settings: dict) -> dict:
        return {k: v for k, v in {**INTRODUCED_LATER, **settings}.items() if k not in PREDICTION_ONLY}

    if trained_by(written) != trained_by(run):
        raise GennapeError(f"{out} holds a run with another config, seed or NB-101 graphs (a converter "
                           "changed?); its checkpoints cannot be resumed: use a new folder")
    check_combination(config)
    (out / "config.json").write_text(json.dumps(run, indent=1))


def checkpointed(path: Path, make: Callable[[], nn.Module], fit: Callable[[], tuple[nn.Module, dict]]) -> nn.Module:
    """Load ``path`` (safetensors) into ``make()`` if a previous run finished this stage, else run
    ``fit`` and write the module and its history (``path`` with suffix .json)."""
    if path.is_file():
        module = make()
        module.load_state_dict(load_file(path))
        log.info("stage %s: loaded from %s", path.stem, path)
        return module.eval()
    module, history = fit()
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, path)
    path.with_suffix(".json").write_text(json.dumps(history, indent=1))
    return module


@dataclass
class NB101Run:
    """One training run's data and stages: the NB-101 cells (``graphs``, accuracies ``acc`` in
    percent), their split, labels and spectra, and a method per checkpointed stage in folder ``out``."""
    config: TrainConfig
    seed: int
    out: Path
    graphs: list[ComputeGraph]
    acc: np.ndarray
    _widths: list = field(default_factory=list)  # the cells at other widths, built when first read

    def __post_init__(self):
        config, acc = self.config, self.acc
        self.macs = np.array([float(g.flops) for g in self.graphs])
        self.train, self.val1, self.val2 = split_nb101(len(self.graphs), config.split_seed)
        keep = acc >= config.min_accuracy
        self.train_t, self.val1_t, self.val2_t = (s[keep[s]] for s in (self.train, self.val1, self.val2))
        log.info("NB-101: %d cells, split %d/%d/%d (%d/%d/%d at >= %g %%)", len(self.graphs), len(self.train),
                 len(self.val1), len(self.val2), len(self.train_t), len(self.val1_t), len(self.val2_t),
                 config.min_accuracy)
        self.spectra = self._spectra()
        self.transform = FlopsAwareTransform().fit(acc[self.train_t], self.macs[self.train_t])
        self.acc_stats = (float(acc[self.train].mean()), float(acc[self.train].std()))
        self.y_eq5 = self.transform.transform(acc, self.macs)
        self.y_acc = (acc - self.acc_stats[0]) / self.acc_stats[1]

    def _spectra(self) -> np.ndarray:
        path = self.out / "spectra.npz"
        if path.is_file():
            spectra = np.load(path, allow_pickle=False)["spectra"]
        else:
            start = time.perf_counter()
            spectra = laplacian_spectra(self.graphs)
            np.savez(path, spectra=spectra)
            log.info("Laplacian spectra of %d graphs: %.0f s", len(self.graphs), time.perf_counter() - start)
        if len(spectra) != len(self.graphs):
            raise GennapeError(f"{path} holds {len(spectra)} spectra for {len(self.graphs)} graphs; delete it")
        return spectra

    def pick(self, idx) -> list[ComputeGraph]:
        return [self.graphs[i] for i in idx]

    def pick_train(self, idx, stage: str) -> Sequence[ComputeGraph]:
        """Training graphs of a stage that embeds them: at random widths under width augmentation (the CL
        stage under cl_width_views too)."""
        config = self.config
        widths = config.width_augmentation or config.cl_width_views
        if not widths or (config.cl_width_views and stage != "cl"):
            return self.pick(idx)
        if not self._widths:
            self._widths.extend(widths_of_nb101(self.graphs, widths))
        return RandomWidths([[v[i] for i in idx] for v in self._widths], self.seed, stage)

    def _new_encoder(self, **kwargs) -> GraphEncoder:
        c = self.config
        return GraphEncoder(c.dim, c.num_layers, features=c.node_features, **kwargs)

    def encoder(self) -> GraphEncoder:
        """The CL encoder, then (``tune_epochs`` > 0) tuned end to end on Eq. 5 labels."""
        config = self.config
        encoder = checkpointed(self.out / "encoder.safetensors", lambda: self._new_encoder(dropout=config.dropout),
                               self._pretrain)
        if not config.tune_epochs:
            return encoder
        return checkpointed(
            self.out / "encoder_tuned.safetensors",
            lambda: self._new_encoder(op_dim=encoder.config["op_dim"], dropout=0.0),
            lambda: tune_encoder(encoder, self.pick_train(self.train_t, "tune"), self.y_eq5[self.train_t], config,
                                 self.seed, val=(self.pick(self.val1_t), self.y_eq5[self.val1_t])))

    def _pretrain(self) -> tuple[GraphEncoder, dict]:
        cl_graphs, cl_spectra = self.pick_train(self.train, "cl"), self.spectra[self.train]  # spectra ignore width
        if self.config.cl_samples_per_family:
            extra = sample_design_spaces(self.config.cl_samples_per_family, self.seed)
            cl_graphs, cl_spectra = cl_graphs + extra, np.concatenate([cl_spectra, laplacian_spectra(extra)])
            log.info("CL on %d NB-101 and %d unlabelled sampled graphs of other families", len(self.train),
                     len(extra))
        return pretrain_encoder(cl_graphs, cl_spectra, self.config, self.seed,
                                val=(self.pick(self.val1), self.spectra[self.val1]))

    def fcm(self, emb: np.ndarray) -> FuzzyCMeans:
        """Fuzzy C-means on the training cells' embeddings (checkpointed as fcm.json)."""
        path = self.out / "fcm.json"
        if path.is_file():
            return FuzzyCMeans.from_centers(np.array(json.loads(path.read_text())["centers"]), self.config.fcm_m)
        fcm = FuzzyCMeans(self.config.n_clusters, self.config.fcm_m, seed=self.seed).fit(emb[self.train])
        path.write_text(json.dumps({"centers": fcm.centers_.tolist(), "iterations": fcm.n_iter_}))
        return fcm

    def heads(self, emb: np.ndarray, memberships: np.ndarray) -> dict[str, nn.Module]:
        """The four regression and two pairwise heads on the frozen embeddings."""
        emb_heads = head_inputs(torch.from_numpy(emb), torch.from_numpy(self.macs),
                                self.config.head_flops_input).numpy()
        return {"cl_fcm_t": self._regression("cl_fcm_t", emb_heads, memberships, eq5=True),
                "cl_t": self._regression("cl_t", emb_heads, None, eq5=True),
                "cl_fcm": self._regression("cl_fcm", emb_heads, memberships, eq5=False),
                "cl": self._regression("cl", emb_heads, None, eq5=False),
                "cl_pairwise_fcm": self._pairwise("cl_pairwise_fcm", emb_heads, memberships),
                "cl_pairwise": self._pairwise("cl_pairwise", emb_heads, None)}

    def _regression(self, name: str, h: np.ndarray, u: np.ndarray | None, eq5: bool) -> nn.Module:
        c = self.config
        tr, va, y = (self.train_t, self.val1_t, self.y_eq5) if eq5 else (self.train, self.val1, self.y_acc)
        return checkpointed(
            self.out / f"{name}.safetensors",
            lambda: RegressionMember(eq5, 1 if u is None else u.shape[1], c.dim, c.head_hidden, c.head_layers,
                                     c.head_flops_input),
            lambda: fit_regression_head(h[tr], y[tr], None if u is None else u[tr], config=c, seed=self.seed,
                                        flops_aware=eq5, val=(h[va], y[va], None if u is None else u[va]),
                                        name=name))

    def _pairwise(self, name: str, h: np.ndarray, u: np.ndarray | None) -> nn.Module:
        c, tr, va = self.config, self.train, self.val1
        return checkpointed(
            self.out / f"{name}.safetensors",
            lambda: PairwiseMember(1 if u is None else u.shape[1], c.dim, c.head_hidden, c.head_layers,
                                   c.head_flops_input),
            lambda: fit_pairwise_head(h[tr], self.acc[tr], None if u is None else u[tr], config=c, seed=self.seed,
                                      val=(h[va], self.acc[va], None if u is None else u[va]), name=name))

    def gnn(self, conv: str) -> nn.Module:
        """The end-to-end GNN ``conv`` ("kgnn", "gcn", "gin") on standardised raw accuracy."""
        c = self.config
        return checkpointed(
            self.out / f"{conv}.safetensors",
            lambda: GNNMember(conv, c.dim, c.num_layers, c.node_features, c.gnn_flops_input),
            lambda: fit_gnn(self.pick_train(self.train, conv), self.y_acc[self.train], conv, config=c,
                            seed=self.seed, val=(self.pick(self.val1), self.y_acc[self.val1])))
