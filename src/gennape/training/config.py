"""Settings of training and fine-tuning, and the named training presets. Imports nothing heavy, so
the command line can list the presets quickly. Why each default: docs/decisions.md."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import GennapeError
from ..registry import Registry


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run on NB-101; epoch counts are per stage, accuracies in percent.
    The defaults train one seed in about 20 minutes on one busy CPU core (per epoch on the 16k training
    graphs: CL ~30 s, encoder tuning ~10 s, a GNN ~10 s; heads < 1 s)."""
    max_cells: int | None = None  # use only the first cells of the data file (None: all 20,001)
    # the NB-101 80/10/10 split is drawn once from this seed and shared by every training seed, so
    # that validation-2 is held out from all of them (and can judge their mean, a SeedEnsemble)
    split_seed: int = 0
    min_accuracy: float = 80.0  # percent; cells below are dropped for the Eq. 5 members
    dim: int = 32
    num_layers: int = 6
    node_features: str = "attributes"  # "gennape": the paper's node description, an ablation (model/encoder.py)
    dropout: float = 0.1  # encoder dropout during CL: the two views' augmentation
    projection_dim: int = 32
    tau: float = 0.1
    alpha_temperature: float = 0.01  # of the soft positives' spectral distances
    cl_epochs: int = 12
    cl_batch_size: int = 256
    cl_lr: float = 1e-3
    # unlabelled graphs sampled uniformly from each other family's design space that join the CL
    # training graphs (no label of any family is read); 0: NB-101 only
    cl_samples_per_family: int = 0
    tune_epochs: int = 20  # supervised Eq. 5 fine-tuning of the CL encoder; 0 keeps the CL encoder frozen
    tune_lr: float = 1e-3
    n_clusters: int = 4
    fcm_m: float = 2.0
    head_hidden: int = 32
    head_layers: int = 3
    head_epochs: int = 40
    head_batch_size: int = 32
    head_lr: float = 1e-3
    head_flops_input: bool = True  # heads on CL embeddings also read log10 GFLOPs (model.head_inputs)
    pair_epochs: int = 40
    gnn_epochs: int = 15
    gnn_batch_size: int = 32
    gnn_lr: float = 1e-3
    gnn_flops_input: bool = False  # the end-to-end GNNs' readout also reads log10 GFLOPs
    baselines: tuple[str, ...] = ("gcn", "gin")  # extra end-to-end GNNs, trained and reported
    grad_clip: float = 5.0
    # the supervised stages (encoder tuning, heads, GNNs) end at the mean of their end-of-epoch weights
    # over the last half of their epochs, not at the best validation-1 epoch (stochastic weight averaging)
    weight_averaging: bool = True
    # in the NB-101 stages that embed nodes (CL, encoder tuning, end-to-end GNNs), each node's op
    # embedding is zeroed with this probability (op dropout)
    op_dropout: float = 0.15
    # in the same stages, every read of an NB-101 training graph draws one of these stem widths (NB-101's
    # network rebuilt that wide, label unchanged); () reads the graphs as they are (128 wide)
    width_augmentation: tuple[int, ...] = ()
    # CL pre-training only: each of a cell's two views is drawn at one of these widths, independently
    # (no label involved); () reads them 128 wide
    cl_width_views: tuple[int, ...] = (16, 32, 64, 128)
    # prediction only: the heads and the inverse of Eq. 5 read every call's FLOPs scaled so that their median
    # is the NB-101 training cells' (FLOPs centring); no stage trains differently
    flops_centring: bool = True

    def averaged_epochs(self, epochs: int) -> int:
        """How many final epochs a supervised stage of ``epochs`` epochs averages (0: none)."""
        return (epochs + 1) // 2 if self.weight_averaging else 0

    @classmethod
    def preset(cls, name: str) -> TrainConfig:
        """The settings of a named preset (:data:`PRESETS`)."""
        return cls(**PRESETS.get(name))


#: Named training presets: the settings that differ from :class:`TrainConfig`'s defaults. Besides
#: "default", "quick" exercises everything in seconds (tests) and the others are measured variants
#: (docs/variants.md has their results).
PRESETS: Registry[dict] = Registry("training preset")
for _name, _changes in {
    "default": {},
    # a few hundred cells, one epoch per stage
    "quick": {"max_cells": 300, "cl_epochs": 1, "cl_batch_size": 64, "tune_epochs": 1, "head_epochs": 1,
              "pair_epochs": 1, "gnn_epochs": 1, "n_clusters": 3, "baselines": ("gcn",)},
    # the paper's schedule as far as it is known: 40 epochs everywhere, the k-GNN at Adam 1e-4, heads
    # on the frozen CL encoder, readouts without the FLOPs column
    "paper": {"cl_epochs": 40, "tune_epochs": 0, "gnn_epochs": 40, "gnn_lr": 1e-4, "head_flops_input": False,
              "weight_averaging": False, "op_dropout": 0.0},
    # the paper's node features instead of ours (the feature ablation)
    "gennape_features": {"node_features": "gennape"},
    # CL also on 500 unlabelled sampled graphs of each of the 12 other families (the families' own
    # widths, so no width views)
    "all_families": {"cl_samples_per_family": 500, "cl_width_views": ()},
    # readouts without the log10 GFLOPs column
    "no_flops_input": {"head_flops_input": False},
    # the column for the end-to-end GNNs as well
    "gnn_flops_input": {"gnn_flops_input": True},
    # each supervised stage at its best validation-1 epoch
    "no_weight_averaging": {"weight_averaging": False},
    # every op embedding kept in training
    "no_op_dropout": {"op_dropout": 0.0},
    # NB-101 training graphs at stem widths 16 to 128 in every stage that embeds them, not only CL's views
    "width_augmentation": {"width_augmentation": (16, 32, 64, 128), "cl_width_views": ()},
    # both CL views 128 wide
    "no_cl_width_views": {"cl_width_views": ()},
    # FLOPs read as they are
    "no_flops_centring": {"flops_centring": False},
}.items():
    PRESETS.register(_name, _changes)

#: settings added after runs had been written, with the value that reproduces those older runs
INTRODUCED_LATER = {"split_seed": 0, "weight_averaging": False, "op_dropout": 0.0, "width_augmentation": [],
                    "cl_width_views": []}
#: settings that change only how the trained members predict: a run's checkpoints stay valid across them
PREDICTION_ONLY = ("flops_centring",)


@dataclass(frozen=True)
class FineTuneConfig:
    """Fine-tuning a trained estimator on a few labelled networks (GENNAPE: 50). 50 samples leave no
    validation split: every member trains ``epochs`` epochs and ends at the last one (or, with
    ``weight_averaging``, at the mean of its last half of epochs), without op dropout. The k-GNN takes
    fewer, larger steps than the paper's (batch 1, Adam 1e-4) on the same data. ``recentre``: each
    regressor first moves its mean output onto the samples' mean label."""
    epochs: int = 100
    seed: int = 0
    head_batch_size: int = 8
    head_lr: float = 1e-3
    gnn_batch_size: int = 5
    gnn_lr: float = 3e-4
    grad_clip: float = 5.0
    recentre: bool = True
    weight_averaging: bool = False

    def stage_config(self) -> TrainConfig:
        """The :class:`TrainConfig` the training stages read when they fine-tune."""
        return replace(TrainConfig(), head_batch_size=self.head_batch_size, head_lr=self.head_lr,
                       gnn_batch_size=self.gnn_batch_size, gnn_lr=self.gnn_lr, grad_clip=self.grad_clip,
                       weight_averaging=self.weight_averaging, op_dropout=0.0)


def check_combination(config: TrainConfig) -> None:
    """A :class:`GennapeError` when ``config`` combines settings that exclude each other."""
    if (config.width_augmentation or config.cl_width_views) and config.cl_samples_per_family:
        raise GennapeError("width_augmentation and cl_width_views rebuild NB-101 cells only; they cannot be "
                           "combined with cl_samples_per_family")
    if config.width_augmentation and config.cl_width_views:
        raise GennapeError("width_augmentation and cl_width_views are alternatives; set one")
