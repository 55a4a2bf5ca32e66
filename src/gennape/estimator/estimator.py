"""The GENNAPE accuracy estimator: one shared graph encoder, fuzzy C-means centres in its
embedding space, and the ensemble members (:mod:`.members`), which score graphs from one shared
encoder forward per batch and are combined on a common scale (:mod:`.scoring`).

Files: ``estimator.safetensors`` (every tensor) and ``estimator.json`` (everything else).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..errors import EstimatorError, GennapeError
from ..graph import VOCAB_VERSION
from ..graph.compute_graph import ComputeGraph
from ..model import FEATURE_VERSION, FlopsAwareTransform, FuzzyCMeans, GraphEncoder, graphs_to_batch
from .members import CALIBRATED_MEMBER, ENSEMBLE, Member, SharedInputs, member_from_spec
from .scoring import chance_accuracy, check_graphs, chunks, flops_shift, live_parts, normalised_ranks

FORMAT_VERSION = 1
COMMON_SCALES = ("rank", "nb101")


class Estimator:
    """Scores computation graphs: higher is better (:meth:`predict`), or an accuracy in percent
    (:meth:`predict_accuracy`, calibrated on NB-101's CIFAR-10 until fine-tuned).

    Fitted state, set by training (:func:`gennape.training.train_estimator`) or :meth:`load`:
    ``encoder`` (the tuned CL encoder), ``fcm`` (its cluster centres), ``transform`` (Eq. 5 with NB-101
    training statistics), ``accuracy_stats`` ((mean, std) in percent of NB-101 training accuracies,
    the scale of the raw-accuracy regressors), ``members`` ({name: :class:`Member`}), ``scales``
    ({member: (mean, std) of its scores on NB-101 validation-1}), ``weights`` ({ensemble member:
    weight}; default equal over :data:`ENSEMBLE`), ``info`` (provenance).
    How it scores: ``common_scale`` ("rank": normalised ranks within one call; "nb101": z-scores
    w.r.t. ``scales``), ``flops_centre`` (log10 GFLOPs every call's median is read at; None reads
    FLOPs as they are), ``flops_shift`` (decades, fixed by fine-tuning; None: per call) and
    ``constant_accuracy`` (percent predicted for a network that computes a constant, set by
    fine-tuning; None: chance, 100 / its output's channels). docs/decisions.md says why.
    """

    def __init__(self, encoder: GraphEncoder, fcm: FuzzyCMeans, transform: FlopsAwareTransform,
                 accuracy_stats: tuple[float, float], members: dict[str, Member], *,
                 scales: dict[str, tuple[float, float]] | None = None, weights: dict[str, float] | None = None,
                 info: dict | None = None, common_scale: str = "rank", flops_centre: float | None = None,
                 flops_shift: float | None = None, constant_accuracy: float | None = None):
        if common_scale not in COMMON_SCALES:
            raise GennapeError(f"unknown common scale {common_scale!r}; choose one of {', '.join(COMMON_SCALES)}")
        self.common_scale = common_scale
        self.encoder = encoder.eval()
        self.fcm = fcm
        self.transform = transform
        self.accuracy_stats = (float(accuracy_stats[0]), float(accuracy_stats[1]))
        self.members = {name: m.eval() for name, m in members.items()}
        self.scales = dict(scales or {})
        if weights is None:
            weights = {name: 1.0 for name in ENSEMBLE if name in self.members}
        self.weights = {name: float(w) for name, w in weights.items()}
        self.info = dict(info or {})
        self.flops_centre = None if flops_centre is None else float(flops_centre)
        self.flops_shift = None if flops_shift is None else float(flops_shift)
        self.constant_accuracy = None if constant_accuracy is None else float(constant_accuracy)

    def with_members(self, members: dict[str, Member]) -> Estimator:
        """A copy of this estimator (sharing its modules) with ``members`` instead of its own; the
        ensemble weights are unchanged, so extra members are reported, not combined."""
        other = copy.copy(self)
        other.members = {name: m.eval() for name, m in members.items()}
        return other

    # --- prediction ----------------------------------------------------------------------------
    def predict(self, graphs: Sequence[ComputeGraph], member: str | None = None) -> np.ndarray:
        """(len(graphs),) float64 scores, higher = better: the weighted ensemble of the members'
        scores on the common scale, or one ``member``'s score in its own unit (-inf for a network
        that computes a constant, where the unit is not an accuracy). ``graphs`` is a list: one
        graph is scored as ``predict([graph])`` (a bare graph raises :class:`GraphError`, as does a
        graph with negative costs)."""
        if member is not None:
            return self.member_scores(graphs, [member])[member]
        return self.combine(self.member_scores(graphs, list(self.weights)))

    def combine(self, scores: dict[str, np.ndarray], common_scale: str | None = None) -> np.ndarray:
        """The ensemble score from ``scores`` ({member: scores of the same graphs}, every weighted
        member included), on ``common_scale`` (default: this estimator's)."""
        scale = common_scale or self.common_scale
        total = sum(self.weights.values())
        ensemble = np.zeros(len(next(iter(scores.values()))))
        for name, w in self.weights.items():
            s = np.asarray(scores[name], dtype=np.float64)
            ensemble += w / total * (normalised_ranks(s) if scale == "rank" else self.standardise(name, s))
        return ensemble

    def predict_accuracy(self, graphs: Sequence[ComputeGraph]) -> np.ndarray:
        """Accuracy estimates in percent from CL+FCM+T through the inverse of Eq. 5 (NB-101-calibrated)."""
        return self.member_scores(graphs, [CALIBRATED_MEMBER])[CALIBRATED_MEMBER]

    def standardise(self, member: str, scores: np.ndarray) -> np.ndarray:
        """A member's scores as z-scores w.r.t. its NB-101 validation-1 scores."""
        mean, std = self.scales.get(member, (0.0, 1.0))
        return (np.asarray(scores, dtype=np.float64) - mean) / std

    @torch.no_grad()
    def member_scores(self, graphs: Sequence[ComputeGraph], names: Sequence[str]) -> dict[str, np.ndarray]:
        """{member: (len(graphs),) float64 scores} with one encoder forward per chunk of graphs;
        ``graphs`` as :func:`~.scoring.check_graphs` accepts them."""
        unknown = [n for n in names if n not in self.members]
        if unknown:
            raise GennapeError(f"unknown estimator member(s) {', '.join(unknown)}; this estimator has "
                               f"{', '.join(self.members)}")
        graphs = check_graphs(graphs)
        lives, varying = live_parts(graphs)
        parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
        shift = self.shift_of(lives)  # one shift for the whole call, not per chunk
        for chunk in chunks(lives):
            inputs = self.shared_inputs(chunk, shift)
            for name in names:
                parts[name].append(self._score(name, self.members[name](inputs), inputs.read_macs))
        out = {}
        for name in names:
            scores = self._constant_output_scores(name, graphs, ~varying)
            if parts[name]:
                scores[varying] = np.concatenate(parts[name])
            out[name] = scores
        return out

    def _constant_output_scores(self, name: str, graphs: Sequence[ComputeGraph], which: np.ndarray) -> np.ndarray:
        """Member ``name``'s scores with the networks ``which`` (outputs independent of the input) set
        by rule: chance accuracy, or :attr:`constant_accuracy` once fine-tuned, for an accuracy member;
        -inf for a score member. The rest are left at 0."""
        scores = np.zeros(len(graphs))
        if self.members[name].target == "score":
            scores[which] = -np.inf
        elif self.constant_accuracy is not None:
            scores[which] = self.constant_accuracy
        else:
            scores[which] = [chance_accuracy(graphs[i]) for i in np.flatnonzero(which)]
        return scores

    def shift_of(self, graphs: Sequence[ComputeGraph]) -> float:
        """Decades by which the heads and Eq. 5 read the FLOPs of ``graphs`` scaled (FLOPs centring)."""
        return flops_shift(graphs, self.flops_centre, self.flops_shift)

    def shared_inputs(self, graphs: Sequence[ComputeGraph], shift: float | None = None) -> SharedInputs:
        """What every member reads for ``graphs``; ``shift``: FLOPs centring's (default :meth:`shift_of`)."""
        batch = graphs_to_batch(graphs)
        h = self.encoder(batch)
        u = torch.from_numpy(self.fcm.memberships(h.detach().numpy()).astype(np.float32))
        return SharedInputs(batch, h, u, self.shift_of(graphs) if shift is None else shift)

    def _score(self, name: str, out: torch.Tensor, read_macs: torch.Tensor) -> np.ndarray:
        out = out.detach().to(torch.float64).numpy()
        target = self.members[name].target
        if target == "eq5":
            return self.transform.inverse(out, read_macs.numpy())
        if target == "accuracy":
            return out * self.accuracy_stats[1] + self.accuracy_stats[0]
        return out

    def labels(self, member: str, acc_percent: np.ndarray, macs: np.ndarray) -> np.ndarray:
        """Accuracies (percent) -> the label space ``member`` regresses (inverse of :meth:`_score`);
        ``macs`` as the members read them (:attr:`SharedInputs.read_macs`)."""
        target = self.members[member].target
        acc = np.asarray(acc_percent, dtype=np.float64)
        if target == "eq5":
            return self.transform.transform(acc, np.asarray(macs, dtype=np.float64))
        if target == "accuracy":
            return (acc - self.accuracy_stats[0]) / self.accuracy_stats[1]
        raise GennapeError(f"member {member!r} is not a regressor")

    def fine_tune(self, graphs: Sequence[ComputeGraph], accuracies_percent, epochs: int = 100,
                  seed: int = 0, members: Sequence[str] | None = None) -> Estimator:
        """A NEW estimator fine-tuned on a few labelled graphs (percent) of a target family; this one is
        left untouched. :func:`gennape.training.fine_tune` with a :class:`~gennape.training.FineTuneConfig`
        of these ``epochs`` and ``seed``; ``members``: fine-tune and keep only these (default: all).
        Raises :class:`~gennape.errors.LabelError` for unusable labels (not percentages in [0, 100],
        fractions, all equal, not one per graph, one graph object listed twice)."""
        from ..training.fine_tuning import FineTuneConfig, fine_tune  # training builds on this module

        return fine_tune(self, graphs, accuracies_percent, FineTuneConfig(epochs=epochs, seed=seed), members)

    # --- files ---------------------------------------------------------------------------------
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``estimator.safetensors`` and ``estimator.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items()}
        for name, m in self.members.items():
            tensors.update({f"members.{name}.{k}": v for k, v in m.state_dict().items()})
        save_file({k: v.detach().contiguous().clone() for k, v in tensors.items()},
                  directory / "estimator.safetensors")
        meta = {"format_version": FORMAT_VERSION, "feature_version": FEATURE_VERSION,
                "vocab_version": VOCAB_VERSION, "encoder": self.encoder.config,
                "fcm": {"m": self.fcm.m, "centers": np.asarray(self.fcm.centers_).tolist()},
                "label_transform": self.transform.to_dict(),
                "accuracy_stats": {"mean": self.accuracy_stats[0], "std": self.accuracy_stats[1]},
                "members": {name: m.spec() for name, m in self.members.items()},
                "scales": {name: {"mean": s[0], "std": s[1]} for name, s in self.scales.items()},
                "weights": self.weights, "common_scale": self.common_scale,
                "flops_centring": {"centre": self.flops_centre, "shift": self.flops_shift},
                "constant_accuracy": self.constant_accuracy, "info": self.info}
        (directory / "estimator.json").write_text(json.dumps(meta, indent=1))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Estimator:
        """Read an estimator written by :meth:`save`. Raises :class:`EstimatorError` naming the file
        when a file is missing, from another version, or damaged (truncated, tensors missing or of
        other shapes than its description says)."""
        directory = Path(directory)
        meta_path, tensor_path = directory / "estimator.json", directory / "estimator.safetensors"
        if not (meta_path.is_file() and tensor_path.is_file()):
            raise EstimatorError(f"{directory} lacks estimator.json or estimator.safetensors")
        try:
            meta = json.loads(meta_path.read_text())
            versions = (meta["format_version"], meta["feature_version"], meta["vocab_version"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise EstimatorError(f"{meta_path} is not an estimator description: {e!r}") from None
        if versions != (FORMAT_VERSION, FEATURE_VERSION, VOCAB_VERSION):
            raise EstimatorError(f"{meta_path} was written for (format, feature, vocabulary) versions {versions}; "
                                 f"this gennape uses {(FORMAT_VERSION, FEATURE_VERSION, VOCAB_VERSION)}")
        try:
            tensors = load_file(tensor_path)
        except Exception as e:  # SafetensorError, OSError: truncated or not a safetensors file
            raise EstimatorError(f"{tensor_path} is damaged ({type(e).__name__}: {e}); save the estimator again "
                                 "or reinstall gennape") from None
        try:
            return cls._from_parts(meta, tensors)
        except RuntimeError as e:  # load_state_dict: tensors missing, unexpected or of other shapes
            raise EstimatorError(f"{tensor_path} does not match {meta_path.name}: {_first_lines(e)}") from None
        except (KeyError, TypeError, ValueError, GennapeError) as e:
            raise EstimatorError(f"{meta_path} is not a complete estimator description: {e!r}") from None

    @classmethod
    def _from_parts(cls, meta: dict, tensors: dict[str, torch.Tensor]) -> Estimator:
        """The estimator that ``meta`` (estimator.json) describes, with ``tensors`` (estimator.safetensors)."""
        enc_cfg = {k: v for k, v in meta["encoder"].items() if k != "feature_version"}
        encoder = GraphEncoder(**enc_cfg)
        encoder.load_state_dict(_prefixed(tensors, "encoder."))
        members = {}
        for name, spec in meta["members"].items():
            members[name] = member_from_spec(spec)
            members[name].load_state_dict(_prefixed(tensors, f"members.{name}."))
        centring = meta.get("flops_centring", {})  # files from before FLOPs centring read FLOPs as they are
        return cls(encoder, FuzzyCMeans.from_centers(np.array(meta["fcm"]["centers"]), m=meta["fcm"]["m"]),
                   FlopsAwareTransform.from_dict(meta["label_transform"]),
                   (meta["accuracy_stats"]["mean"], meta["accuracy_stats"]["std"]), members,
                   scales={n: (s["mean"], s["std"]) for n, s in meta["scales"].items()}, weights=meta["weights"],
                   info=meta["info"],
                   common_scale=meta.get("common_scale", "nb101"),  # files from before the rank scale: z-scores
                   flops_centre=centring.get("centre"), flops_shift=centring.get("shift"),
                   constant_accuracy=meta.get("constant_accuracy"))


def _first_lines(error: Exception, n: int = 3) -> str:
    """The first ``n`` lines of ``error``'s message, joined (PyTorch's load errors list every tensor)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:n]) + (" ..." if len(lines) > n else "")


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
