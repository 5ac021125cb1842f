"""A row's summary over its finished splits: mean, sample standard deviation (ddof=1) and count."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # NaN with fewer than two values
    n: int


def summarize(values: Iterable[float], scale: float = 1.0) -> Summary:
    """Mean, sample std and count of the finite ``values`` times ``scale`` (100 for a fraction shown in %)."""
    array = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float) * scale
    n = len(array)
    return Summary(float(array.mean()) if n else math.nan, float(array.std(ddof=1)) if n > 1 else math.nan, n)
