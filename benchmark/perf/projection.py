"""The projection of ``bench run --suite all --profile paper`` from a measured rate (see
:mod:`benchmark.perf.measure`)."""

from __future__ import annotations

import numpy as np

from benchmark.config import get_profile, resolve_config

#: A forward-only (test) sample costs about a third of a training sample (backward ~ 2x forward).
EVAL_COST = 1 / 3
PAPER_SPLITS = 10


def paper_train_test_sizes() -> tuple[int, int]:
    """Videos per split of VideoEmotion-8 (1,101 videos, stratified 2/3): (train, test)."""
    from benchmark.splits import random_splits
    from features.synthetic import VE8_COUNTS

    labels = np.repeat(np.arange(len(VE8_COUNTS)), list(VE8_COUNTS.values()))
    split = random_splits(labels, "perf", 1)[0]
    return len(split.train), len(split.test)


def suite_all_torch_rows() -> int:
    """Distinct torch configurations of ``--suite all --profile paper`` (shared rows train once)."""
    from baselines import get_model
    from benchmark.suite import load_suite

    profile = get_profile("paper")
    fingerprints = {
        resolve_config(
            model=r.trained_model, modalities=list(r.modalities), row_params=r.params, profile=profile
        ).fingerprint
        for r in load_suite("all").runnable_rows
        if get_model(r.trained_model).kind == "torch"
    }
    return len(fingerprints)


def projected_samples() -> tuple[float, str]:
    """Training-sample equivalents of ``bench run --suite all --profile paper`` (see the module docstring), and how
    they were counted."""
    train, test = paper_train_test_sizes()
    epochs = int(get_profile("paper").train["epochs"])
    rows = suite_all_torch_rows()
    how = (
        f"{rows} torch configurations x {PAPER_SPLITS} splits x {epochs} epochs, train + test/3 samples each, at "
        "the full model's rate"
    )
    return rows * PAPER_SPLITS * epochs * (train + test * EVAL_COST), how
