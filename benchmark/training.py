"""One training run: a configuration on one split, evaluated on that split's test part.

The reported metric is the test accuracy after the last epoch (no model selection on the test set).
The best test accuracy over epochs is returned too, clearly as optimistic. ``on_epoch`` receives each
epoch's record (the tracker logs it); the loop itself knows nothing about MLflow.

The result also carries the trained model and the last epoch's test class probabilities, so that the
run can keep them (:mod:`benchmark.checkpoints`) and later questions (metrics, test-time corruptions)
never cost a retrain. Predictions stay the argmax of the logits, as before.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from benchmark.config import RunConfig
from benchmark.data import ModalityData, as_tensor, standardize


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    test_acc: float
    seconds: float = math.nan  # wall time of the epoch's training steps (evaluation excluded)


@dataclass
class SplitResult:
    test_acc: float
    test_acc_best_epoch: float
    best_epoch: int
    predictions: np.ndarray
    history: list[EpochRecord] = field(default_factory=list)
    scores: np.ndarray | None = None  # float32 [n_test, n_classes]: the last epoch's class probabilities
    model: Any = None  # the trained model (a torch module on the CPU, or a fitted estimator)


def run_seed(config: RunConfig, split_index: int) -> int:
    """Each split has its own initialisation and data-order seed, derived from the config's seed."""
    return int(hashlib.sha256(f"{config.train.seed}:{split_index}".encode()).hexdigest()[:8], 16) % (2**31)


def train_split(
    config: RunConfig,
    data: dict[str, ModalityData],
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    n_classes: int,
    *,
    seed: int,
    device: str = "cpu",
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> SplitResult:
    from baselines import get_model

    if config.train.standardize:
        data = standardize(data, train)
    if get_model(config.model).kind == "estimator":
        return _fit_estimator(config, data, labels, train, test, n_classes, on_epoch)
    return _train_torch(config, data, labels, train, test, n_classes, seed, device, on_epoch)


def _fit_estimator(config, data, labels, train, test, n_classes, on_epoch) -> SplitResult:
    from baselines import build_model

    dims = {m: d.features.shape[-1] for m, d in data.items()}
    model = build_model(config.model, dims, n_classes, config.params)
    masks = {m: d.mask[train] for m, d in data.items() if d.mask is not None}
    model.fit({m: d.features[train] for m, d in data.items()}, labels[train], masks)
    test_masks = {m: d.mask[test] for m, d in data.items() if d.mask is not None}
    predictions = model.predict({m: d.features[test] for m, d in data.items()}, test_masks)
    acc = float((predictions == labels[test]).mean())
    record = EpochRecord(epoch=1, train_loss=float("nan"), test_acc=acc)
    if on_epoch:
        on_epoch(record)
    scores = np.asarray(
        model.predict_proba({m: d.features[test] for m, d in data.items()}, test_masks), dtype=np.float32
    )
    return SplitResult(acc, acc, 1, predictions, [record], scores, model)


def _train_torch(config, data, labels, train, test, n_classes, seed, device, on_epoch) -> SplitResult:
    import torch

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model, optimizer = build_trainable(config, {m: d.features.shape[-1] for m, d in data.items()}, n_classes, device)
    features = {m: as_tensor(d.features).to(device) for m, d in data.items()}
    masks = {m: as_tensor(d.mask).to(device) for m, d in data.items() if d.mask is not None}
    targets = as_tensor(np.asarray(labels, dtype=np.int64)).to(device)
    train_t, test_t = torch.from_numpy(train), torch.from_numpy(test)

    def batch(idx: torch.Tensor):
        idx = idx.to(device)
        return {m: f[idx] for m, f in features.items()}, {m: k[idx] for m, k in masks.items()}, targets[idx]

    history: list[EpochRecord] = []
    best_acc, best_epoch, predictions, scores = -1.0, 0, np.empty(0, dtype=np.int64), None
    size = config.train.batch_size
    for epoch in range(1, config.train.epochs + 1):
        model.train()
        order = train_t[torch.randperm(len(train_t), generator=generator)]
        total, count = 0.0, 0
        started = time.perf_counter()
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            if len(idx) < 2:  # BatchNorm cannot train on one sample
                continue
            loss = train_step(model, optimizer, *batch(idx), epoch=epoch, precision=config.train.precision)
            total += loss.item() * len(idx)
            count += len(idx)
        seconds = time.perf_counter() - started  # loss.item() above waits for the device each step
        predictions, scores = _predict(model, batch, test_t, precision=config.train.precision)
        acc = float((predictions == labels[test]).mean())
        record = EpochRecord(epoch, total / max(count, 1), acc, seconds)
        history.append(record)
        if acc > best_acc:
            best_acc, best_epoch = acc, epoch
        if on_epoch:
            on_epoch(record)
    if not math.isfinite(history[-1].train_loss):
        raise NonFiniteLoss("training loss is not finite")
    return SplitResult(history[-1].test_acc, best_acc, best_epoch, predictions, history, scores, model.eval().cpu())


def build_trainable(config: RunConfig, dims: dict[str, int], n_classes: int, device):
    """The model and its Adam optimiser, as the plain loop trains them (``bench perf`` times the same)."""
    import torch

    from baselines import build_model

    model = build_model(config.model, dims, n_classes, config.params).to(device)
    return model, torch.optim.Adam(model.parameters(), lr=config.train.lr, weight_decay=config.train.weight_decay)


def train_step(model, optimizer, inputs, masks, targets, *, epoch: int, precision: str = "fp32"):
    """One optimiser step of the plain loop; returns the loss (a tensor: reading it waits for the device).

    ``precision="bf16"``: the forward pass under bf16 autocast; the loss, gradients and Adam in fp32.
    """
    import torch
    import torch.nn.functional as F

    from benchmark.precision import autocast

    with autocast(precision, targets.device):
        logits = model(inputs, masks)
    loss = F.cross_entropy(logits.float(), targets)
    if not torch.isfinite(loss):
        raise NonFiniteLoss(f"training loss became {loss.item()} at epoch {epoch}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def _predict(model, batch, positions, size: int = 256, precision: str = "fp32") -> tuple[np.ndarray, np.ndarray]:
    """Class predictions (argmax of the logits) and class probabilities (float32) of ``positions``."""
    import torch

    from benchmark.precision import autocast

    model.eval()
    out, probabilities = [], []
    with torch.no_grad(), autocast(precision, next(model.parameters()).device):
        for start in range(0, len(positions), size):
            x, m, _ = batch(positions[start : start + size])
            logits = model(x, m)
            out.append(logits.argmax(dim=1).cpu())
            probabilities.append(torch.softmax(logits.float(), dim=1).cpu())
    return torch.cat(out).numpy(), torch.cat(probabilities).numpy()
