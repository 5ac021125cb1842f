"""A row against its reference on one split: McNemar's test on their paired test predictions.

With one official train/test split there is no spread over splits, so the corrected t-test of
:mod:`benchmark.statistics.significance` has nothing to work on; the paired unit is then the test video.
Both rows predicted the same test videos, so each video falls in one cell of a 2 x 2 table (both
right, only the row right, only the reference right, both wrong), and only the discordant videos
(b: only the row right, c: only the reference right) carry evidence of a difference.

- **p**: ``statsmodels.stats.contingency_tables.mcnemar``; the exact binomial test (b out of b + c
  at 1/2, two-sided) where b + c < :data:`EXACT_BELOW`, else the chi-square statistic with
  continuity correction, (|b − c| − 1)² / (b + c) on 1 degree of freedom. The record's ``test``
  says which ("McNemar exact" / "McNemar chi2").
- **Interval**: the paired accuracy difference (b − c)/n, in points, with **Newcombe's hybrid score
  interval** (Newcombe 1998, Stat Med 17:2635, method 10): the Wilson score intervals of the two
  paired accuracies, combined with the correlation φ of the pairs. Chosen because, unlike the Wald
  interval ((b − c)/n ± z·se), it stays inside [−100, 100] and keeps close to its nominal coverage
  when the discordant counts are small or zero, which is the usual case between two good models on
  a few hundred test videos; it needs no iteration. The Wilson limits come from statsmodels'
  ``proportion_confint(method="wilson")``.

The record is a :class:`~benchmark.statistics.significance.Comparison` (so Holm's adjustment across a
table's rows, :func:`~benchmark.statistics.significance.with_holm`, applies unchanged) with the test's
name and the four cell counts added; ``wins`` / ``ties`` / ``losses`` count the one split as the
corrected test counts splits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmark.statistics.significance import LEVEL, Comparison

EXACT_BELOW = 25  # discordant videos: below this, the exact binomial test
EXACT, CHI2 = "McNemar exact", "McNemar chi2"
CI_NAME = "Newcombe hybrid score interval (1998, method 10)"


@dataclass
class McNemarComparison(Comparison):
    """One row against the reference on one split's paired test predictions (points: row − reference)."""

    test: str = ""  # EXACT or CHI2
    both_correct: int = 0
    row_only: int = 0  # b: the row right, the reference wrong
    reference_only: int = 0  # c: the reference right, the row wrong
    both_wrong: int = 0
    statistic: float = math.nan  # the binomial test's min(b, c), or the chi-square statistic

    def as_record(self) -> dict[str, Any]:  # "test" names the test: text among the figures
        return {
            **super().as_record(),
            "test": self.test,
            "n_paired": self.n_paired,
            "both_correct": self.both_correct,
            "row_only": self.row_only,
            "reference_only": self.reference_only,
            "both_wrong": self.both_wrong,
        }


def mcnemar_compare(
    row: Mapping[str, bool] | Sequence[bool],
    reference: Mapping[str, bool] | Sequence[bool],
    *,
    exact_below: int = EXACT_BELOW,
    level: float = LEVEL,
) -> McNemarComparison:
    """McNemar's test of ``row`` against ``reference``: whether each test video was predicted correctly,
    as {video id: correct} (the same ids in both) or as two equally long sequences in the same video order."""
    from statsmodels.stats.contingency_tables import mcnemar

    mine, theirs = _paired(row, reference)
    n = len(mine)
    out = McNemarComparison(n_paired=n)
    if n == 0:
        out.note = "no paired test predictions"
        return out
    a = int(np.sum(mine & theirs))
    b = int(np.sum(mine & ~theirs))
    c = int(np.sum(~mine & theirs))
    d = n - a - b - c
    out.both_correct, out.row_only, out.reference_only, out.both_wrong = a, b, c, d
    out.diff = 100.0 * (b - c) / n
    out.wins, out.ties, out.losses = int(b > c), int(b == c), int(b < c)
    exact = b + c < exact_below
    result = mcnemar([[a, b], [c, d]], exact=exact, correction=True)
    out.test = EXACT if exact else CHI2
    out.statistic, out.p_value = float(result.statistic), float(min(1.0, result.pvalue))
    low, high = newcombe_interval(a, b, c, d, level)
    out.diff_ci_low, out.diff_ci_high = 100.0 * low, 100.0 * high
    if b + c == 0:
        out.note = "no discordant test video: the rows agree on every video"
    return out


def newcombe_interval(a: int, b: int, c: int, d: int, level: float = LEVEL) -> tuple[float, float]:
    """Newcombe's hybrid score interval of the paired difference (a + b)/n − (a + c)/n, as fractions."""
    from statsmodels.stats.proportion import proportion_confint

    n = a + b + c + d
    alpha = 1.0 - level
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = proportion_confint(a + b, n, alpha=alpha, method="wilson")
    l2, u2 = proportion_confint(a + c, n, alpha=alpha, method="wilson")
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(denominator) if denominator > 0 else 0.0
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    epsilon = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    diff = p1 - p2
    return max(-1.0, diff - delta), min(1.0, diff + epsilon)


def _paired(row, reference) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(row, Mapping) != isinstance(reference, Mapping):
        raise TypeError("give both rows as {video id: correct} or both as sequences")
    if isinstance(row, Mapping):
        if set(row) != set(reference):
            extra = sorted(set(row) ^ set(reference))
            raise ValueError(
                f"the rows were tested on different videos ({len(extra)} ids in one only, e.g. {extra[0]!r})"
            )
        ids = sorted(row)
        return np.array([bool(row[i]) for i in ids]), np.array([bool(reference[i]) for i in ids])
    mine, theirs = np.asarray(row, dtype=bool), np.asarray(reference, dtype=bool)
    if mine.shape != theirs.shape or mine.ndim != 1:
        raise ValueError(f"paired predictions need two equally long lists, got {mine.shape} and {theirs.shape}")
    return mine, theirs
