"""Per-split Adam for stacked parameters.

``torch.optim.Adam`` is elementwise (moments, bias correction and the update of each entry depend
only on that entry and the step count), so one Adam over parameters stacked along a split axis is
exactly K independent Adams, provided every split steps on every step. The engine guarantees that by
training together only splits with the same training-set size (the same batch schedule);
``tests/benchmark/engine/test_optim.py`` checks the equivalence bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from benchmark.config import TrainConfig


def adam(params: Iterable[torch.Tensor], train: TrainConfig) -> torch.optim.Optimizer:
    """The plain loop's optimizer (same lr and weight decay), over stacked parameters."""
    return torch.optim.Adam(list(params), lr=train.lr, weight_decay=train.weight_decay)
