"""Per-row statistics in percent: mean and sample std over splits, the paper's number and our
difference, a paired test against the suite's reference row, and the cost of best-epoch reporting.

The test is Student's paired t-test (``scipy.stats.ttest_rel``, two-sided) over the splits both rows
finished: the splits are shared, so a paired test removes the split-to-split variation that both
rows see. With fewer than two shared splits there is no test (``p_value`` empty, ``test_note`` says
why).
"""

from __future__ import annotations

import math

import numpy as np

from benchmark.report.collect import RowRuns

TEST_NAME = "paired t-test (scipy.stats.ttest_rel, two-sided)"

COLUMNS = [
    "table", "row", "reported", "ran", "running", "mean", "std", "n_splits", "n_expected", "paper", "delta",
    "p_value", "n_paired", "test_note", "best_epoch_mean", "best_epoch_gain", "missing", "ceiling",
    "n_parameters", "seconds_per_epoch",
]


def _percent(values) -> np.ndarray:
    return 100.0 * np.asarray(values, dtype=float)


def paired_test(row: dict[int, float], reference: dict[int, float]) -> tuple[float, int, str]:
    """p-value, number of shared splits and a note (why there is no p-value, if there is none)."""
    from scipy.stats import ttest_rel

    shared = sorted(set(row) & set(reference))
    if len(shared) < 2:
        return math.nan, len(shared), f"n={len(shared)} shared splits: too few for a test"
    a = np.array([row[k] for k in shared])
    b = np.array([reference[k] for k in shared])
    if np.allclose(a - b, (a - b)[0]):
        note = "identical on every split" if np.allclose(a, b) else "constant difference: no variance to test"
        return math.nan, len(shared), note
    return float(ttest_rel(a, b).pvalue), len(shared), ""


def _mean_finite(values) -> float:
    """Mean of the finite values (runs logged before ``seconds_per_epoch`` existed have none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else math.nan


def row_stats(rows: list[RowRuns], reference: str | None):
    """One record per row (reported rows included), in suite order, as a pandas DataFrame."""
    import pandas as pd

    accs = {r.row.name: {s.split: s.test_acc for s in r.finished} for r in rows}
    ref = accs.get(reference, {}) if reference else {}
    records = []
    for r in rows:
        finished = r.finished
        values = _percent([s.test_acc for s in finished])
        best = _percent([s.test_acc_best_epoch for s in finished])
        n = len(values)
        mean = float(values.mean()) if n else math.nan
        best_mean = float(np.nanmean(best)) if n and np.isfinite(best).any() else math.nan
        p_value, n_paired, note = math.nan, 0, ""
        if r.row.reported:
            note = "reported in the literature, not re-run"
        elif r.row.name == reference:
            note = "reference"
        elif reference and n:
            p_value, n_paired, note = paired_test(accs[r.row.name], ref)
        elif reference:
            note = "no finished split"
        paper = r.row.paper if r.row.paper is not None else math.nan
        records.append(
            {
                "table": r.row.table,
                "row": r.row.name,
                "reported": r.row.reported,
                "ran": r.parent_id is not None,
                "running": r.parent_status == "RUNNING",
                "mean": mean,
                "std": float(values.std(ddof=1)) if n > 1 else math.nan,
                "n_splits": n,
                "n_expected": r.n_expected,
                "paper": paper,
                "delta": mean - paper if n and math.isfinite(paper) else math.nan,
                "p_value": p_value,
                "n_paired": n_paired,
                "test_note": note,
                "best_epoch_mean": best_mean,
                "best_epoch_gain": best_mean - mean if n else math.nan,
                "missing": "; ".join(r.problems) if not r.row.reported else "",
                "ceiling": 100.0 * r.ceiling,  # best reachable (synthetic stores), NaN elsewhere
                "n_parameters": r.n_parameters if r.n_parameters is not None else math.nan,
                "seconds_per_epoch": _mean_finite([s.seconds_per_epoch for s in finished]),
            }
        )
    return pd.DataFrame.from_records(records, columns=COLUMNS)
