"""The cost measurement of a kept model leaves the model as it was (the corruptions are evaluated after it)."""

from __future__ import annotations

import numpy as np
import torch

from baselines import build_model
from benchmark.evaluation.cost import measure


def test_measuring_cost_changes_no_weight_or_statistic_and_reports_every_figure():
    dims = {"visual": 12, "audio": 8, "skeleton": 6}
    model = build_model(
        "proposed", dims, 4, {"proj_dims": {m: 16 for m in dims}, "ff_dim": 32, "mlp_hidden": 16}
    ).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    features = {m: rng.standard_normal((5, 6, d)).astype(np.float32) for m, d in dims.items()}
    masks = {m: np.ones((5, 6), dtype=bool) for m in dims}
    figures = measure(model, features, masks)
    assert set(figures) == {"mflop_per_video", "inference_ms_batch1", "inference_ms_batch64", "peak_memory_mb"}
    assert all(v > 0 for v in figures.values())
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
