"""The corrected resampled t-test and its interval written out by hand, independently of the report
code, for tests that check ``table.csv`` against the child runs (Nadeau & Bengio 2003)."""

from __future__ import annotations

import math

from scipy.stats import t as student_t


def corrected(
    row: dict[int, float], reference: dict[int, float], sizes: dict[int, tuple[int, int]]
) -> dict[str, float]:
    """p, mean difference and 95 % interval (points) of row − reference over their shared splits;
    ``sizes``: split -> (n_train, n_test); the ratio n_test/n_train is averaged over the shared splits."""
    shared = sorted(set(row) & set(reference))
    d = [100 * (row[k] - reference[k]) for k in shared]
    j = len(d)
    mean = sum(d) / j
    variance = sum((x - mean) ** 2 for x in d) / (j - 1)
    ratio = sum(sizes[k][1] / sizes[k][0] for k in shared) / j
    se = math.sqrt((1 / j + ratio) * variance)
    half = student_t.ppf(0.975, j - 1) * se
    return {
        "p": 2 * student_t.sf(abs(mean / se), j - 1),
        "diff": mean,
        "low": mean - half,
        "high": mean + half,
        "se": se,
    }
