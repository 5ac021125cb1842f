"""``bench perf``'s efficiency figures: FLOPs per training sample, the matmul rate, peak memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmark.config import get_profile, resolve_config
from benchmark.perf.efficiency import PeakMemory, matmul_rate, training_flops_per_sample
from benchmark.perf.measure import loop_precision, timed_precisions
from benchmark.precision import mflops_per_frame

DIMS = {"visual": 24, "audio": 16, "skeleton": 12}


def config_of(modalities, frames=6):
    return resolve_config(
        model="proposed",
        modalities=list(modalities),
        row_params=None,
        profile=get_profile("quick"),
        train_overrides={"frames": frames},
    )


def test_a_training_sample_counts_forward_and_backward():
    config = config_of(DIMS)
    forward = mflops_per_frame(config, DIMS) * 1e6 * 6
    train = training_flops_per_sample(config, DIMS)
    # backward: the gradient of every weight plus of every input but the first layer's, 1x-2x forward
    assert 2.0 * forward < train <= 3.0 * forward
    assert training_flops_per_sample(config_of(DIMS, frames=12), DIMS) == pytest.approx(
        2 * train, rel=0.05
    )  # per frame
    assert training_flops_per_sample(config_of(["audio"]), DIMS) < train
    state = torch.random.get_rng_state()
    training_flops_per_sample(config_of(["visual", "audio"], frames=5), DIMS)  # not cached: builds a model
    assert torch.equal(torch.random.get_rng_state(), state)


def test_matmul_rate_counts_two_flops_per_multiply_add(monkeypatch):
    import benchmark.perf.efficiency as efficiency

    monkeypatch.setattr(efficiency, "_time_mm", lambda a, b, out, calls: 0.001)  # every call takes 1 ms
    assert matmul_rate("fp32", "cpu", shape=(64, 32, 16)) == pytest.approx(2 * 64 * 32 * 16 / 0.001)
    monkeypatch.setattr(efficiency, "_time_mm", lambda a, b, out, calls: 1.0)  # slow (emulated): the eighth alone
    assert matmul_rate("bf16", "cpu", seconds=0.5, shape=(64, 32, 16)) == pytest.approx(2 * 8 * 32 * 16 / 1.0)
    assert matmul_rate("fp32", "cpu", seconds=0.01, shape=(64, 32, 16)) == pytest.approx(2 * 8 * 32 * 16)


def test_peak_memory_sees_a_large_allocation_inside_the_block_only():
    with PeakMemory("cpu") as quiet:
        pass
    with PeakMemory("cpu") as busy:
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
        del block
    assert quiet.mib is not None and busy.mib is not None
    assert busy.mib >= quiet.mib + 48
    assert PeakMemory.merge([None, 3.0, 5.0]) == 5.0 and PeakMemory.merge([None]) is None


def test_bf16_loops_are_timed_only_where_bf16_is_native_or_asked_for():
    assert timed_precisions("fp32", native=True) == ("fp32", "bf16")
    assert timed_precisions("bf16", native=False) == ("fp32", "bf16")
    assert timed_precisions("fp32", native=False) == ("fp32",)
    assert [loop_precision(n) for n in ("reference", "plain bf16", "vectorised fp32")] == ["fp32", "bf16", "fp32"]
