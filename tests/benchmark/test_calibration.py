"""The kept bf16-vs-fp32 calibration: the model's matmul shapes, one measurement per machine key, reused."""

from __future__ import annotations

import json

import pytest

import benchmark.calibration as calibration
from benchmark.config import get_profile, resolve_config
from features.store import PAPER_DIMS

FULL = ["visual", "audio", "skeleton"]


def config_of(profile: str, modalities=FULL, **train):
    return resolve_config(
        model="proposed",
        modalities=list(modalities),
        row_params=None,
        profile=get_profile(profile),
        train_overrides=train,
    )


def fake_measure(monkeypatch, *speedups: float) -> list:
    """``measure`` answering bf16 ``speedups[i]`` times faster on its i-th call; returns the calls."""
    calls: list = []

    def measure(device, threads, shapes, rounds=calibration.ROUNDS):
        calls.append((device, threads))
        ratio = speedups[min(len(calls), len(speedups)) - 1]
        return 1.0, 1.0 / ratio, [ratio]

    monkeypatch.setattr(calibration, "measure", measure)
    return calls


def test_step_shapes_are_the_models_matmuls_at_its_batch_with_their_backward():
    quick = config_of("quick")  # batch 64, T = 10, every modality projected to 128
    shapes = calibration.step_shapes(quick, PAPER_DIMS)
    frames = 64 * 10
    assert (0, frames, 768, 128) in shapes  # the visual projection, forward
    assert (0, frames, 128, 768) in shapes and (0, 768, frames, 128) in shapes  # its grad input and grad weight
    assert calibration.step_shapes(config_of("quick", batch_size=32), PAPER_DIMS) != shapes  # the batch is part of it


def test_the_calibration_is_measured_once_per_machine_key_and_kept(monkeypatch, tmp_path):
    calls = fake_measure(monkeypatch, 2.0, 0.5)
    shapes = calibration.step_shapes(config_of("quick"), PAPER_DIMS)
    first = calibration.calibration("cpu", 2, shapes)
    assert first.bf16 and first.speedup == pytest.approx(2.0) and "2.00x" in first.describe()
    again = calibration.calibration("cpu", 2, shapes)  # kept: a second measurement (0.5x) is never made
    assert again.bf16 and len(calls) == 1
    other_threads = calibration.calibration("cpu", 1, shapes)  # another machine key: measured on its own
    assert not other_threads.bf16 and calls == [("cpu", 2), ("cpu", 1)]
    kept = json.loads(calibration.cache_file(calibration.machine_key("cpu", 2)).read_text())
    assert kept["machine"]["threads"] == "2" and kept["machine"]["torch"]
    assert [entry["fp32_s"] / entry["bf16_s"] for entry in kept["entries"].values()] == [pytest.approx(2.0)]
    assert calibration.cache_file(calibration.machine_key("cpu", 2)).is_relative_to(tmp_path / "cache" / "calibration")


def test_the_margin_keeps_fp32_where_bf16_is_barely_faster(monkeypatch):
    fake_measure(monkeypatch, calibration.MARGIN * 0.99)
    assert not calibration.calibration("cpu", 2, {(0, 64, 32, 16): 1}).bf16


def test_measure_times_both_precisions():
    fp32_s, bf16_s, ratios = calibration.measure("cpu", 1, {(0, 64, 48, 32): 2, (4, 16, 8, 16): 1}, rounds=2)
    assert fp32_s > 0 and bf16_s > 0 and len(ratios) == 2
