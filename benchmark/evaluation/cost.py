"""What a row costs, measured on its kept model by ``bench evaluate`` (MultiBench reports the same kinds):
forward MFLOP per video (``torch.utils.flop_counter``, training-mode forward of two videos, as ``bench perf``
counts), inference milliseconds per video at batch 1 and 64 on this machine, and the peak bytes of live
tensors during a batch-64 forward pass (activations, parameters included)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

BATCHES = (1, 64)
REPEATS = 3


def _inputs(features: dict[str, np.ndarray], masks: dict[str, np.ndarray], size: int):
    import torch

    take = np.arange(size) % next(iter(features.values())).shape[0]
    x = {m: torch.from_numpy(np.ascontiguousarray(v[take])) for m, v in features.items()}
    k = {m: torch.from_numpy(np.ascontiguousarray(v[take])) for m, v in masks.items() if not v[take].all()}
    return x, k


def measure(model: Any, features: dict[str, np.ndarray], masks: dict[str, np.ndarray]) -> dict[str, float]:
    """``features``/``masks``: the model's own modalities of the test split. Estimators: latency only."""
    out: dict[str, float] = {}
    try:
        import torch
    except ImportError:  # pragma: no cover
        return out
    if not isinstance(model, torch.nn.Module):
        for size in BATCHES:
            take = np.arange(size) % next(iter(features.values())).shape[0]
            fx = {m: v[take] for m, v in features.items()}
            fk = {m: v[take] for m, v in masks.items()}
            out[f"inference_ms_batch{size}"] = _median_ms(partial(model.predict_proba, fx, fk)) / size
        return out
    from torch.utils.flop_counter import FlopCounterMode

    x2, _ = _inputs(features, masks, 2)
    counter = FlopCounterMode(display=False)
    with torch.random.fork_rng(), counter, torch.no_grad():
        copy.deepcopy(model).train()(x2, {})  # a copy: a training-mode forward moves BatchNorm's running statistics
    out["mflop_per_video"] = counter.get_total_flops() / 2 / 1e6
    model.eval()
    for size in BATCHES:
        x, k = _inputs(features, masks, size)
        with torch.no_grad():
            out[f"inference_ms_batch{size}"] = _median_ms(partial(model, x, k)) / size
    x, k = _inputs(features, masks, BATCHES[-1])
    with torch.no_grad(), _PeakBytes() as peak:
        model(x, k)
    out["peak_memory_mb"] = (peak.peak + sum(p.numel() * p.element_size() for p in model.parameters())) / 2**20
    return out


def _median_ms(call: Callable[[], Any]) -> float:
    call()  # warm-up
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times))


def _peak_mode():
    import weakref

    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class PeakBytes(TorchDispatchMode):
        """Peak bytes of tensors created inside the mode and still alive (views share their base's bytes)."""

        def __init__(self) -> None:
            super().__init__()
            self.live = self.peak = 0
            self.seen: set[int] = set()

        def _free(self, key: int, size: int) -> None:
            self.seen.discard(key)
            self.live -= size

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            for t in tree_flatten(result)[0]:
                if isinstance(t, torch.Tensor) and t.untyped_storage().data_ptr() not in self.seen:
                    key, size = t.untyped_storage().data_ptr(), t.untyped_storage().nbytes()
                    if not key:
                        continue
                    self.seen.add(key)
                    self.live += size
                    self.peak = max(self.peak, self.live)
                    weakref.finalize(t, self._free, key, size)
            return result

    return PeakBytes


def _PeakBytes():  # noqa: N802 - a class made on first use (torch is imported lazily)
    return _peak_mode()()
