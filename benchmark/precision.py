"""Numeric precision of training: ``--precision auto|fp32|bf16`` for ``bench run``, ``tune`` and ``perf``.

``bf16`` means autocast only: the forward pass runs its matmuls in bfloat16 while the weights, the
optimiser state and the loss stay float32 (the same recipe on the plain loop and the engine).

``auto`` is resolved once per configuration, before anything is logged, because the precision is
part of the run's fingerprint. It takes bf16 where both hold:

- the device computes bf16 natively (:func:`native_bf16`): a CUDA device that torch says supports
  it, or a CPU on which torch runs its AVX-512 kernels and whose flags show ``avx512_bf16`` or
  ``amx_bf16`` (elsewhere bf16 is emulated and slower than fp32);
- the configuration does enough arithmetic per frame for bf16 to pay (:func:`gains_from_bf16`):
  at least :data:`BF16_MIN_MFLOPS_PER_FRAME` million floating-point operations per frame in the
  forward pass, counted by ``torch.utils.flop_counter``. Every configuration of the suites at the
  paper's dims is above it (the full model 16.5 MFLOP per frame, w/o visual 2.7, the NeXtVLAD
  baseline 2.7), every one of the quick profile's 128-wide branches below (at most 1.7);
  the figures and the timings behind the threshold are in ``docs/measurements.md``.

The rule depends only on the device kind and the configuration, never on a timing, so the same
command resolves ``auto`` the same way on the same hardware and finds its own finished runs again.
Estimator models (the linear probe) have no precision: they are always ``fp32``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from benchmark.params import check_choice

PRECISIONS = ("auto", "fp32", "bf16")
#: Forward-pass MFLOP per frame from which bf16 autocast pays on a device with native bf16.
BF16_MIN_MFLOPS_PER_FRAME = 2.0
_BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


def check_precision(precision: str) -> str:
    return check_choice("precision", precision, PRECISIONS)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them (empty where there is no /proc/cpuinfo)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def native_bf16(device: str) -> bool:
    """Whether ``device`` (``cpu``, ``cuda``, ``cuda:N``) computes bf16 natively rather than emulating it."""
    import torch

    if device.startswith("cuda"):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return torch.backends.cpu.get_cpu_capability() == "AVX512" and bool(cpu_flags() & _BF16_CPU_FLAGS)


@functools.lru_cache(maxsize=256)
def _mflops_per_frame(model: str, dims: tuple[tuple[str, int], ...], params_json: str, frames: int) -> float:
    import json

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from baselines import build_model

    # training mode: the eval-mode Transformer "fast path" is one fused op the counter cannot see;
    # two samples, because BatchNorm trains on no fewer; zeros, so the global random state is untouched
    inputs = {m: torch.zeros(2, frames, d) for m, d in dims}
    counter = FlopCounterMode(display=False)
    with torch.random.fork_rng(), counter, torch.no_grad():
        build_model(model, dict(dims), 8, json.loads(params_json)).train()(inputs, {})
    return counter.get_total_flops() / (2 * frames) / 1e6


def mflops_per_frame(config, dims: Mapping[str, int]) -> float:
    """Forward-pass MFLOP per frame of one sample of ``config``'s model (matmuls and convolutions)."""
    import json

    frames = config.train.frames or 100
    key = tuple((m, int(dims[m])) for m in config.modalities)
    return _mflops_per_frame(config.model, key, json.dumps(dict(config.params), sort_keys=True, default=str), frames)


def gains_from_bf16(config, dims: Mapping[str, int]) -> bool:
    """Whether ``config`` does enough arithmetic per frame for bf16 autocast to beat fp32."""
    return mflops_per_frame(config, dims) >= BF16_MIN_MFLOPS_PER_FRAME


def choose_precision(precision: str, device: str, config, dims: Mapping[str, int]) -> str:
    """``fp32`` or ``bf16`` for one torch configuration on a resolved device (see the module docstring)."""
    check_precision(precision)
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) and gains_from_bf16(config, dims) else "fp32"


def with_precision(config, precision: str, device: str, dims: Mapping[str, int]):
    """``config`` (a :class:`~benchmark.config.RunConfig`) with its precision resolved; fp32 for estimators."""
    from baselines import get_model

    check_precision(precision)
    chosen = choose_precision(precision, device, config, dims) if get_model(config.model).kind == "torch" else "fp32"
    return at_precision(config, chosen)


def at_precision(config, precision: str):
    """``config`` with its precision set to ``fp32`` or ``bf16`` (no rule applied)."""
    from dataclasses import replace

    return replace(config, train=replace(config.train, precision=precision))


def autocast(precision: str, device) -> AbstractContextManager:
    """The forward pass's context: bf16 autocast for ``bf16``, nothing for ``fp32``."""
    import torch

    if precision == "bf16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return nullcontext()
