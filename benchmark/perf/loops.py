"""The loops ``bench perf`` times (a researcher's DataLoader loop, the harness's plain loop, the vectorised
engine) on random features, interleaved so that a shared machine's changing load hits all of them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from benchmark.config import RunConfig
from benchmark.data import ModalityData
from benchmark.engine.batches import DeviceData, epoch_order
from benchmark.engine.train import GroupTrainer, SplitTask
from benchmark.perf.efficiency import PeakMemory


@dataclass(frozen=True)
class PerfSetup:
    device: str
    splits: int = 10
    steps: int = 20
    warmup: int = 3
    repeats: int = 3
    engine: str = "auto"
    precision: str = "auto"
    compile: bool = False
    profile: str = "paper"
    frames: int | None = None  # default: the profile's (paper: 100)
    videos: int | None = None  # default: VideoEmotion-8's 1,101
    dims: Mapping[str, int] | None = None  # default: the paper's


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def synthetic_data(n_videos: int, frames: int, dims: Mapping[str, int], n_classes: int, seed: int = 0):
    """Random features (skeleton frames 90 % detected, like pose estimation with misses) and labels."""
    g = torch.Generator().manual_seed(seed)
    data = {}
    for m, d in dims.items():
        features = torch.randn(n_videos, frames, d, generator=g).numpy()
        mask = (torch.rand(n_videos, frames, generator=g) < 0.9).numpy() if m == "skeleton" else None
        data[m] = ModalityData(features, mask)
    return data, np.arange(n_videos) % n_classes


@dataclass(frozen=True)
class Loop:
    """A training loop ready to run: ``run_steps(n)`` trains n steps of ``samples_per_step`` samples."""

    run_steps: Callable[[int], None]
    samples_per_step: int


def interleaved_rates(
    loops: Mapping[str, Loop], setup: PerfSetup, device: torch.device
) -> tuple[dict[str, list[float]], dict[str, float | None], dict[str, str]]:
    """samples/s per loop and repeat, each loop's peak memory (MiB) over its warm-up and repeats, and
    the loops that raised in their first step (name -> the error's last line), left out of the timing.

    Each repeat times every loop in turn (the order rotating), so a load that comes and goes on a
    shared machine affects every loop alike. A failing loop (bf16 on a device whose kernels refuse a
    mix of dtypes, say) must not hide the figures of the others.
    """
    import traceback

    peaks: dict[str, list[float | None]] = {name: [] for name in loops}
    failed: dict[str, str] = {}
    for name, loop in loops.items():
        try:
            with PeakMemory(device) as peak:
                loop.run_steps(max(setup.warmup, 1))
        except Exception as exc:
            failed[name] = traceback.format_exception_only(exc)[-1].strip()
            continue
        peaks[name].append(peak.mib)
    names = [name for name in loops if name not in failed]
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(setup.repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            with PeakMemory(device) as peak:
                start = time.perf_counter()
                loops[name].run_steps(setup.steps)
                _sync(device)
                seconds = time.perf_counter() - start
            peaks[name].append(peak.mib)
            rates[name].append(setup.steps * loops[name].samples_per_step / seconds)
    return rates, {name: PeakMemory.merge(values) for name, values in peaks.items() if name not in failed}, failed


def _cycle(batches: Callable[[], Iterable[Any]]) -> Iterator[Any]:
    """Batches forever, a new epoch's order whenever one runs out."""
    while True:
        yield from batches()


def reference_loop(config: RunConfig, data, labels, train: np.ndarray, n_classes: int, device: torch.device) -> Loop:
    """The plain reference: DataLoader, fp32, one split."""
    from torch.utils.data import DataLoader, Dataset

    from baselines import build_model

    class Videos(Dataset):
        def __len__(self) -> int:
            return len(train)

        def __getitem__(self, i: int):
            pos = train[i]
            x = {m: torch.from_numpy(d.features[pos]) for m, d in data.items()}
            mask = {m: torch.from_numpy(d.mask[pos]) for m, d in data.items() if d.mask is not None}
            return x, mask, int(labels[pos])

    torch.manual_seed(0)
    model = build_model(config.model, {m: d.features.shape[-1] for m, d in data.items()}, n_classes, config.params).to(
        device
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=config.train.lr)
    loader = DataLoader(Videos(), batch_size=config.train.batch_size, shuffle=True, drop_last=True)
    batches = _cycle(lambda: iter(loader))
    model.train()

    def run_steps(n: int) -> None:
        for _ in range(n):
            x, mask, y = next(batches)
            x = {m: t.to(device) for m, t in x.items()}
            mask = {m: t.to(device) for m, t in mask.items()}
            loss = F.cross_entropy(model(x, mask), y.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()  # logged every step, as such loops do

    return Loop(run_steps, config.train.batch_size)


def plain_loop(config: RunConfig, resident: DeviceData, train: np.ndarray, n_classes: int) -> Loop:
    """The harness's plain loop (``train_split``'s model, optimiser and step): resident features, index batches, one
    split."""
    from benchmark.training import build_trainable, train_step

    device = resident.device
    torch.manual_seed(0)
    model, optimizer = build_trainable(
        config, {m: t.shape[-1] for m, t in resident.features.items()}, n_classes, device
    )
    positions, generator, size = torch.from_numpy(train), torch.Generator().manual_seed(0), config.train.batch_size

    def epoch():
        order = positions[torch.randperm(len(positions), generator=generator)]
        return (order[s : s + size] for s in range(0, len(order) - size + 1, size))

    batches = _cycle(epoch)
    model.train()

    def run_steps(n: int) -> None:
        for _ in range(n):
            idx = next(batches).to(device)
            x = {m: f[idx] for m, f in resident.features.items()}
            mask = {m: k[idx] for m, k in resident.masks.items()}
            train_step(
                model, optimizer, x, mask, resident.labels[idx], epoch=0, precision=config.train.precision
            ).item()

    return Loop(run_steps, size)


def vectorised_loop(
    config: RunConfig, resident: DeviceData, train: np.ndarray, test: np.ndarray, n_classes: int, setup: PerfSetup
) -> Loop:
    """The engine: ``setup.splits`` splits as one model (seeds 0..K-1; the same videos, their own orders)."""
    tasks = [SplitTask(train, test, seed) for seed in range(setup.splits)]
    trainer = GroupTrainer(config, resident, tasks, n_classes, compile=setup.compile)
    size = config.train.batch_size

    def epoch():
        order = epoch_order(trainer.train_positions, trainer.generators).to(resident.device)
        return (order[:, s : s + size] for s in range(0, order.shape[1] - size + 1, size))

    batches = _cycle(epoch)

    def run_steps(n: int) -> None:
        for _ in range(n):
            trainer.step(next(batches))

    return Loop(run_steps, size * setup.splits)
