"""Train the splits of one configuration together and return what the plain loop returns per split.

Splits train together when their training and test parts have the same sizes (the seeded random
2/3 splits always do); splits of other sizes form their own groups. Within a group every split has
the same batch schedule (the plain loop's: ``randperm`` order, batches of ``batch_size``, a last
batch of one skipped), so one Adam over the stacked parameters equals one Adam per split.

A split whose loss becomes NaN or infinite ends as :class:`~benchmark.training.NonFiniteLoss` for
that split only (its slice of the stacked weights no longer matters; the others are independent of
it, because no operation mixes splits). Losses are checked once per epoch, not per step, so the
device never waits on the host inside an epoch.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.config import RunConfig
from benchmark.data import ModalityData
from benchmark.engine.batches import DeviceData, epoch_order
from benchmark.engine.optim import adam
from benchmark.engine.stacked import (
    StackedModel,
    build_models,
    fp32_attention,
    fp32_batchnorm_inputs,
    vmap_friendly_attention,
)
from benchmark.params import ParamError
from benchmark.precision import autocast
from benchmark.training import EpochRecord, NonFiniteLoss, SplitResult

PREDICT_CHUNK = 256


@dataclass(frozen=True)
class SplitTask:
    """One split to train: positions into the store's arrays and its run seed (``run_seed``)."""

    train: np.ndarray
    test: np.ndarray
    seed: int


class GroupTrainer:
    """K splits of equal sizes as one stacked model with one optimizer; one :meth:`step` trains all K.

    The forward pass runs under bf16 autocast where ``config.train.precision`` is ``bf16``.
    """

    def __init__(
        self,
        config: RunConfig,
        data: DeviceData,
        tasks: Sequence[SplitTask],
        n_classes: int,
        *,
        compile: bool = False,
    ):
        dims = {m: t.shape[-1] for m, t in data.features.items()}
        self.config, self.data, self.tasks, self.n_classes = config, data, list(tasks), n_classes
        self.model = StackedModel(
            build_models(config.model, dims, n_classes, config.params, [t.seed for t in tasks]), data.device
        )
        self.optimizer = adam(self.model.parameters(), config.train)
        if config.train.precision == "bf16":
            fp32_batchnorm_inputs(self.model.base)
            fp32_attention(self.model.base)
        self.scale = data.standardizer([t.train for t in tasks]) if config.train.standardize else None
        self.forward = self.model.function()
        if compile:
            self.forward = torch.compile(self.forward)
        self.generators = [torch.Generator().manual_seed(t.seed) for t in tasks]
        self.train_positions = torch.from_numpy(np.stack([t.train for t in tasks]))
        self.test_positions = torch.from_numpy(np.stack([t.test for t in tasks])).to(data.device)

    def logits(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inputs, masks, targets = self.data.batch(idx, self.scale)
        with vmap_friendly_attention(), autocast(self.config.train.precision, self.data.device):
            out = self.forward(self.model.params, self.model.buffers, inputs, masks)
        return out.float(), targets

    def step(self, idx: torch.Tensor) -> torch.Tensor:
        """One optimizer step of every split on its batch ``idx[k]``; returns the K losses (on the device)."""
        self.model.train()
        logits, targets = self.logits(idx)
        losses = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").mean(dim=1)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # d(sum)/d(loss_k) = 1: each split gets exactly its own gradient
        self.optimizer.step()
        return losses.detach()

    def epoch(self) -> torch.Tensor:
        """One epoch of every split; the sample-weighted mean loss per split (float64, on the host)."""
        order = epoch_order(self.train_positions, self.generators).to(self.data.device)
        size = self.config.train.batch_size
        total = torch.zeros(len(self.tasks), dtype=torch.float64, device=self.data.device)
        count = 0
        for start in range(0, order.shape[1], size):
            idx = order[:, start : start + size]
            if idx.shape[1] < 2:  # BatchNorm cannot train on one sample (the plain loop skips it too)
                continue
            total += self.step(idx).double() * idx.shape[1]
            count += idx.shape[1]
        return (total / max(count, 1)).cpu()

    @torch.no_grad()
    def predict(self, positions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Class predictions ``[K, n]`` (argmax of the logits) and class probabilities ``[K, n, C]`` (float32)
        for positions ``[K, n]`` (default: each split's test part)."""
        positions = self.test_positions if positions is None else positions
        self.model.eval()
        logits = [
            self.logits(positions[:, s : s + PREDICT_CHUNK])[0] for s in range(0, positions.shape[1], PREDICT_CHUNK)
        ]
        out = torch.cat(logits, dim=1)
        return out.argmax(dim=-1), torch.softmax(out, dim=-1)

    def trained_model(self, k: int) -> torch.nn.Module:
        """Split ``k``'s trained model as a plain module on the CPU (what its run keeps)."""
        from baselines import build_model

        dims = {m: t.shape[-1] for m, t in self.data.features.items()}
        model = build_model(self.config.model, dims, self.n_classes, self.config.params)
        model.load_state_dict({name: t.cpu() for name, t in self.model.state_dict(k).items()})
        return model.eval()


def train_splits(
    config: RunConfig,
    data: dict[str, ModalityData],
    labels: np.ndarray,
    tasks: Sequence[SplitTask],
    n_classes: int,
    *,
    device: str = "cpu",
    on_epoch: Callable[[int, EpochRecord], None] | None = None,
    compile: bool = False,
) -> list[SplitResult | NonFiniteLoss]:
    """Train ``tasks`` (splits of one config); item i is split i's result or its NonFiniteLoss.

    ``on_epoch(i, record)`` gets each live split's epoch record, as the plain loop's ``on_epoch`` does.
    """
    from baselines import get_model

    if get_model(config.model).kind != "torch":
        raise ParamError(f"model {config.model!r} is not a torch model; the vectorised engine trains torch models only")
    resident = DeviceData(data, labels, device)
    results: list[SplitResult | NonFiniteLoss | None] = [None] * len(tasks)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, task in enumerate(tasks):
        groups[(len(task.train), len(task.test))].append(i)
    for members in groups.values():
        trainer = GroupTrainer(config, resident, [tasks[i] for i in members], n_classes, compile=compile)
        for i, result in zip(members, _train_group(trainer, labels, members, on_epoch)):
            results[i] = result
    return results  # type: ignore[return-value]


def _train_group(
    trainer: GroupTrainer, labels: np.ndarray, members: list[int], on_epoch
) -> list[SplitResult | NonFiniteLoss]:
    k = len(members)
    histories: list[list[EpochRecord]] = [[] for _ in range(k)]
    failed: list[NonFiniteLoss | None] = [None] * k
    best = [(-1.0, 0)] * k
    predictions = np.empty((k, 0), dtype=np.int64)
    scores = np.empty((k, 0, 0), dtype=np.float32)
    test_labels = np.stack([labels[t.test] for t in trainer.tasks])
    for epoch in range(1, trainer.config.train.epochs + 1):
        started = time.perf_counter()
        losses = trainer.epoch()  # .cpu() at its end waits for the device
        seconds = (time.perf_counter() - started) / k  # the group's epoch, amortised over its k splits
        predicted, probabilities = trainer.predict()
        predictions, scores = predicted.cpu().numpy(), probabilities.cpu().numpy()
        for j in range(k):
            if failed[j] is not None:
                continue
            loss = float(losses[j])
            if not math.isfinite(loss):
                failed[j] = NonFiniteLoss(f"training loss became {loss} at epoch {epoch}")
                continue
            acc = float((predictions[j] == test_labels[j]).mean())
            record = EpochRecord(epoch, loss, acc, seconds)
            histories[j].append(record)
            if acc > best[j][0]:
                best[j] = (acc, epoch)
            if on_epoch:
                on_epoch(members[j], record)
    return [
        failed[j]
        or SplitResult(
            histories[j][-1].test_acc,
            best[j][0],
            best[j][1],
            predictions[j],
            histories[j],
            scores[j],
            trainer.trained_model(j),
        )
        for j in range(k)
    ]
