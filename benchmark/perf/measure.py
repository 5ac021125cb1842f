"""Training throughput at the paper's dims: the plain reference loop against the engine (``bench perf``).

Three loops train the same model on the same random features (1,101 videos, 8 classes, the paper's
dims by default) for ``steps`` timed steps after ``warmup`` untimed ones, ``repeats`` times (the
median counts; each repeat runs the three in turn, so a shared machine's changing load hits all):

- ``reference``: what a researcher writes: a ``DataLoader`` over per-video items, fp32, one split at
  a time (its samples/s do not depend on the number of splits, so one split is timed);
- ``plain``: the harness's own loop (:func:`benchmark.training.train_split`): features resident on
  the device, index batches, one split at a time;
- ``vectorised``: the engine, ``splits`` splits as one model.

The loop that ``--engine`` picks is timed at both precisions (fp32 and bf16 autocast), the other one
at the chosen precision (``--precision``; ``auto`` resolves as ``bench run`` resolves it for the
full model on this process's threads, :mod:`benchmark.auto_precision`, from the same kept
calibration), so four loops in all. The result names the fastest loop and how close the picked one
(what ``bench run`` would train) comes to it.

The projection of ``bench run --suite all --profile paper`` counts training samples: every distinct
torch configuration of the suite, 10 splits x 100 epochs x (train videos + test videos x
``EVAL_COST``), each at the measured rate of the full model (rows with fewer modalities are cheaper,
so it is an upper bound); the linear probe's seconds are ignored.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np
import torch

from benchmark.auto_precision import resolve
from benchmark.config import RunConfig, get_profile, resolve_config
from benchmark.engine.batches import DeviceData
from benchmark.engine.policy import choose_engine
from benchmark.perf.efficiency import MATMUL_SHAPE, matmul_rate, training_flops_per_sample
from benchmark.perf.loops import (
    Loop,
    PerfSetup,
    interleaved_rates,
    plain_loop,
    reference_loop,
    synthetic_data,
    vectorised_loop,
)
from benchmark.perf.projection import projected_samples
from benchmark.precision import BF16_MIN_MFLOPS_PER_FRAME, at_precision, mflops_per_frame, native_bf16
from features.format import PAPER_MODALITIES


@dataclass
class Problem:
    """The random data and model configuration every loop of one ``bench perf`` run trains on."""

    setup: PerfSetup
    config: RunConfig
    dims: dict[str, int]
    frames: int
    n_videos: int
    n_classes: int
    data: dict
    labels: np.ndarray
    train: np.ndarray
    test: np.ndarray
    resident: DeviceData

    @property
    def device(self) -> torch.device:
        return self.resident.device

    def loop(self, kind: str, precision: str) -> Loop:
        """``reference`` (always fp32), ``plain`` or ``vectorised`` at ``precision``."""
        if kind == "reference":
            return reference_loop(self.config, self.data, self.labels, self.train, self.n_classes, self.device)
        config = at_precision(self.config, precision)
        if kind == "plain":
            return plain_loop(config, self.resident, self.train, self.n_classes)
        return vectorised_loop(config, self.resident, self.train, self.test, self.n_classes, self.setup)


def prepare(setup: PerfSetup) -> Problem:
    """The data (1,101 random videos by default) and the full model's configuration at the setup's profile."""
    from features.store import PAPER_DIMS
    from features.synthetic import VE8_COUNTS

    device = torch.device(setup.device)
    profile = get_profile(setup.profile)
    frames = setup.frames or int(profile.train.get("frames") or 100)
    config = resolve_config(
        model="proposed",
        modalities=list(PAPER_MODALITIES),
        row_params=None,
        profile=profile,
        train_overrides={"frames": frames},
    )
    n_classes = len(VE8_COUNTS)
    n_videos = setup.videos or sum(VE8_COUNTS.values())
    dims = dict(setup.dims or PAPER_DIMS)
    data, labels = synthetic_data(n_videos, frames, dims, n_classes)
    order = np.random.default_rng(0).permutation(n_videos)
    n_train = (2 * n_videos) // 3
    if n_train < config.train.batch_size:
        from benchmark.params import ParamError

        raise ParamError(
            f"--videos {n_videos} gives {n_train} training videos, fewer than one batch of {config.train.batch_size}"
        )
    train, test = np.sort(order[:n_train]), np.sort(order[n_train:])
    return Problem(
        setup, config, dims, frames, n_videos, n_classes, data, labels, train, test, DeviceData(data, labels, device)
    )


def timed_precisions(precision: str, native: bool) -> tuple[str, ...]:
    """The precisions the picked loop is timed at: both where bf16 is native or asked for; fp32 alone
    where the device only emulates bf16 (its matmuls run tens of times slower there, so the bf16
    loop at the paper's dims would take hours and say only that)."""
    return ("fp32", "bf16") if native or precision == "bf16" else ("fp32",)


def loop_precision(name: str) -> str:
    """The precision a loop of the table runs at (its name's last word; the reference is fp32)."""
    return "fp32" if name == "reference" else name.split()[-1]


def measure(setup: PerfSetup) -> dict:
    """Run the four loops and return the figures (``bench perf`` prints them, JSON last)."""
    problem = prepare(setup)
    config, dims, device = problem.config, problem.dims, problem.device
    resolved, choice = resolve(config, setup.precision, device.type, dims, torch.get_num_threads())
    precision = resolved.train.precision
    engine = choose_engine(setup.engine, device.type, n_splits=setup.splits, precision=precision)
    other = "vectorised" if engine == "plain" else "plain"
    matmul = {p: matmul_rate(p, device) for p in ("fp32", "bf16")}
    native = native_bf16(device.type)
    loops = {"reference": problem.loop("reference", "fp32")}
    for p in timed_precisions(precision, native):
        loops[f"{engine} {p}"] = problem.loop(engine, p)
    loops[f"{other} {precision}"] = problem.loop(other, precision)
    rates, memory, failed = interleaved_rates(loops, setup, device)
    picked = f"{engine} {precision}"
    for name in ("reference", picked):
        if name in failed:
            raise RuntimeError(f"the {name} loop failed in its first step: {failed[name]}")
    flops = training_flops_per_sample(config, dims)
    median = {name: statistics.median(r) for name, r in rates.items()}
    chosen = median[picked]
    fastest = max(median, key=median.__getitem__)
    fastest_plain = max((n for n in median if n.startswith("plain ")), key=median.__getitem__, default=None)

    def rate(name: str) -> float | None:
        return round(median[name], 3) if name in median else None

    samples, counted = projected_samples()
    projected = samples / chosen
    efficiency = {
        name: {
            "precision": loop_precision(name),
            "samples_per_s": round(median[name], 3),
            "tflops": _significant(median[name] * flops / 1e12),
            "pct_of_matmul_peak": round(100 * median[name] * flops / matmul[loop_precision(name)], 2),
            "peak_memory_mib": None if (peak := memory[name]) is None else round(peak, 1),
        }
        for name in rates
    }
    return {
        "device": _device_name(device),
        "splits": setup.splits,
        "steps": setup.steps,
        "repeats": setup.repeats,
        "batch_size": config.train.batch_size,
        "profile": setup.profile,
        "frames": problem.frames,
        "dims": dims,
        "videos": problem.n_videos,
        "precision": precision,
        "precision_choice": choice,
        "native_bf16": native,
        "mflops_per_frame": round(mflops_per_frame(config, dims), 2),
        "bf16_min_mflops_per_frame": BF16_MIN_MFLOPS_PER_FRAME,
        "train_gflops_per_sample": round(flops / 1e9, 4),
        "matmul_shape": list(MATMUL_SHAPE),
        "matmul_tflops": {p: _significant(r / 1e12) for p, r in matmul.items()},
        "memory_kind": "max_memory_allocated" if device.type == "cuda" else "peak RSS of the process",
        "compile": setup.compile,
        "engine": engine,
        "reference_samples_per_s": round(median["reference"], 3),
        "fp32_samples_per_s": rate(f"{engine} fp32"),
        "bf16_samples_per_s": rate(f"{engine} bf16"),
        "plain_samples_per_s": rate(f"plain {precision}"),
        "vectorised_samples_per_s": rate(f"vectorised {precision}"),
        "engine_samples_per_s": round(chosen, 3),
        "speedup": round(chosen / median["reference"], 3),
        "picked": picked,
        "fastest": fastest,
        "picked_vs_fastest": round(chosen / median[fastest], 3),
        "fastest_plain": fastest_plain,
        "picked_vs_fastest_plain": round(chosen / median[fastest_plain], 3) if fastest_plain else None,
        "vectorised_speedup": (
            round(median[f"vectorised {precision}"] / median["reference"], 3)
            if f"vectorised {precision}" in median
            else None
        ),
        "failed": failed,
        "rates": {name: [round(x, 3) for x in r] for name, r in rates.items()},
        "loops": efficiency,
        "projected_all_paper_s": round(projected, 1),
        "projected_all_paper_hours": round(projected / 3600, 3),
        "projected_all_paper_reference_hours": round(samples / median["reference"] / 3600, 3),
        "projection": counted,
    }


def _significant(x: float, digits: int = 4) -> float:
    """``x`` to ``digits`` significant digits (TFLOP/s span 1e-4 on emulated bf16 to 1e3 on a GPU)."""
    return float(f"{x:.{digits}g}")


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    import platform

    return f"cpu:{platform.processor() or platform.machine()} ({torch.get_num_threads()} threads)"
