"""How close a training loop comes to the machine: FLOPs per sample, the matmul rate, peak memory.

``bench perf`` reports samples/s; those mean little without what the hardware could do. Three
measurements put them in proportion:

- :func:`training_flops_per_sample`: the FLOPs of one training sample, forward and backward,
  counted by ``torch.utils.flop_counter`` on the configuration's own model (matmuls, batched
  matmuls, convolutions; elementwise work is not counted, as usual for "model FLOPs");
- :func:`matmul_rate`: FLOP/s of one large matmul at a precision, on the same device and the same
  threads as the loops (a short microbenchmark): the rate a loop would reach if it did nothing but
  its matmuls, so ``achieved / matmul_rate`` is a loop's "% of matmul peak";
- :class:`PeakMemory`: the peak resident set size of the process while a loop runs on the CPU
  (Linux's ``VmHWM``, reset through ``/proc/self/clear_refs``), ``max_memory_allocated`` on CUDA.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from pathlib import Path

import torch

#: The microbenchmark's matmul: (batch 16 x T 100) frames of the visual width 768 into the encoder's
#: feed-forward width 2048, the model's largest matmul at the paper's dims.
MATMUL_SHAPE = (1600, 768, 2048)
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


@functools.lru_cache(maxsize=64)
def _training_flops(model: str, dims: tuple[tuple[str, int], ...], params_json: str, frames: int) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    from baselines import build_model

    inputs = {m: torch.zeros(2, frames, d) for m, d in dims}  # two samples: BatchNorm trains on no fewer
    counter = FlopCounterMode(display=False)
    with torch.random.fork_rng():  # building the model draws from the global generator: leave it as it was
        net = build_model(model, dict(dims), 8, json.loads(params_json)).train()
        with counter:
            net(inputs, {}).sum().backward()
    return counter.get_total_flops() / 2


def training_flops_per_sample(config, dims: Mapping[str, int]) -> float:
    """FLOPs of one training sample of ``config``'s model (forward and backward) at its frames."""
    frames = config.train.frames or 100
    key = tuple((m, int(dims[m])) for m in config.modalities)
    return _training_flops(config.model, key, json.dumps(dict(config.params), sort_keys=True, default=str), frames)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_mm(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor, calls: int) -> float:
    device = a.device
    _sync(device)
    start = time.perf_counter()
    for _ in range(calls):
        torch.mm(a, b, out=out)
    _sync(device)
    return (time.perf_counter() - start) / calls


def matmul_rate(
    precision: str, device: str | torch.device, *, seconds: float = 0.5, shape: tuple[int, int, int] = MATMUL_SHAPE
) -> float:
    """FLOP/s of an ``[M, K] @ [K, N]`` matmul in ``precision`` (``fp32``/``bf16``) on the current torch
    threads: the best of five bursts of about ``seconds / 5`` each, after a warm-up call.

    A precision the device only emulates can be a hundred times slower (bf16 on an AVX2 CPU: about
    0.1 GFLOP/s), so where one call of an eighth of the rows already takes more than the budget
    of a burst, that eighth is what is timed (once), keeping the microbenchmark short everywhere.
    """
    device = torch.device(device)
    m, k, n = shape
    g = torch.Generator().manual_seed(0)
    a = torch.randn(m, k, generator=g).to(device, _DTYPES[precision])
    b = torch.randn(k, n, generator=g).to(device, _DTYPES[precision])
    rows = max(1, m // 8)
    out = torch.empty(m, n, device=device, dtype=a.dtype)
    probe = _time_mm(a[:rows], b, out[:rows], 1)  # also the warm-up
    if probe > seconds / 5:
        return 2.0 * rows * k * n / probe
    single = _time_mm(a, b, out, 1)
    calls = max(1, int(seconds / 5 / max(single, 1e-9)))
    best = min(_time_mm(a, b, out, calls) for _ in range(5))
    return 2.0 * m * k * n / best


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak memory while the ``with`` block runs, in MiB (``mib`` after it; the largest of several
    blocks with :meth:`merge`). CPU: the process's peak RSS; where it cannot be reset (not Linux), the
    process's peak so far. CUDA: the peak of allocated tensor memory."""

    def __init__(self, device: str | torch.device):
        self.device = torch.device(device)
        self.mib: float | None = None

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            try:
                Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            except OSError:
                pass
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.mib = torch.cuda.max_memory_allocated(self.device) / 2**20
            return
        kib = _status_kib("VmHWM")
        if kib is None:
            import resource
            import sys

            kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
        self.mib = kib / 1024

    @staticmethod
    def merge(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return max(known) if known else None
