"""The one training loop every stage uses: Adam over shuffled mini-batches, ending at the
average of the last epochs' weights, the best validation epoch, or the last epoch."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

log = logging.getLogger("gennape.training")


def fit(module: nn.Module, batch_loss: Callable[[np.ndarray, np.random.Generator], torch.Tensor | None], n: int,
        epochs: int, batch_size: int, lr: float, seed: int, name: str,
        val_loss: Callable[[], float] | None = None, grad_clip: float = 5.0, average_last: int = 0) -> dict:
    """Adam on ``batch_loss(indices, rng)`` over shuffled mini-batches of range(n). The module ends at
    the mean of its end-of-epoch weights over the last ``average_last`` epochs if > 0 (stochastic
    weight averaging; ``val_loss`` is then only logged), else at its best epoch by ``val_loss``
    (lower is better) if given, else at the last epoch. A batch whose loss is None is skipped.
    Returns the history {"train", "val", "best_epoch", "averaged_epochs", "seconds"}."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    params = [p for p in module.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    history = {"train": [], "val": [], "best_epoch": epochs, "averaged_epochs": 0, "seconds": []}
    best = (float("inf"), None)
    average_from = epochs + 1 - min(max(average_last, 0), epochs)  # epochs + 1: no averaging
    weight_sum: dict[str, torch.Tensor] = {}
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        module.train()
        losses = []
        order = rng.permutation(n)
        for i in range(0, n, batch_size):
            loss = batch_loss(order[i:i + batch_size], rng)
            if loss is None:
                continue
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, grad_clip)
            opt.step()
            losses.append(loss.item())
        module.eval()
        history["train"].append(float(np.mean(losses)) if losses else float("nan"))
        history["seconds"].append(time.perf_counter() - start)
        message = f"{name} epoch {epoch}/{epochs}: train loss {history['train'][-1]:.4f}"
        if val_loss is not None:
            with torch.no_grad():
                v = float(val_loss())
            history["val"].append(v)
            message += f", val-1 {v:.4f}"
            if v < best[0]:
                best = (v, copy.deepcopy(module.state_dict()))
                history["best_epoch"] = epoch
        if epoch >= average_from:
            for key, value in module.state_dict().items():
                weight_sum[key] = weight_sum.get(key, 0) + value.detach().double()
            history["averaged_epochs"] += 1
        log.info("%s (%.1f s)", message, history["seconds"][-1])
    if history["averaged_epochs"]:
        state = module.state_dict()
        module.load_state_dict({k: (v / history["averaged_epochs"]).to(state[k].dtype) for k, v in weight_sum.items()})
    elif best[1] is not None:
        module.load_state_dict(best[1])
    return history
