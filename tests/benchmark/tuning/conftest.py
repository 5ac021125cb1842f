"""Helpers for the tuning tests: a recorder around the training function, fast fake training."""

from __future__ import annotations

import numpy as np
import pytest

import benchmark.tuning.objective as objective_module
from benchmark.training import EpochRecord, SplitResult


@pytest.fixture
def record_training(monkeypatch):
    """Wrap the real training function; every call's (train, evaluation) positions are recorded."""
    calls: list[tuple[np.ndarray, np.ndarray]] = []
    real = objective_module.train_split

    def recording(config, data, labels, train, test, n_classes, **kwargs):
        calls.append((np.array(train), np.array(test)))
        return real(config, data, labels, train, test, n_classes, **kwargs)

    monkeypatch.setattr(objective_module, "train_split", recording)
    return calls


@pytest.fixture
def fake_training(monkeypatch):
    """Instant training whose validation accuracy depends on alpha (best at 4); records its calls."""
    calls: list[dict] = []

    def fake(config, data, labels, train, test, n_classes, *, seed, device="cpu", on_epoch=None):
        alpha = config.params["alpha"]
        acc = 0.6 - 0.05 * abs(np.log2(alpha) - 2) + 0.01 * (seed % 3)
        history = []
        for epoch in range(1, config.train.epochs + 1):
            record = EpochRecord(epoch, 1.0 / epoch, acc * epoch / config.train.epochs)
            history.append(record)
            if on_epoch:
                on_epoch(record)
        calls.append({"alpha": alpha, "train": np.array(train), "test": np.array(test)})
        return SplitResult(
            history[-1].test_acc, history[-1].test_acc, config.train.epochs, np.zeros(len(test), np.int64), history
        )

    monkeypatch.setattr(objective_module, "train_split", fake)
    return calls
