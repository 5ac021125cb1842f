"""Per-row statistics in percent: mean and sample std over splits, the paper's number and our
difference, the comparison with the suite's reference row, and the cost of best-epoch reporting.

The comparison (:mod:`benchmark.statistics.significance`) pairs the splits both rows finished: the
corrected resampled t-test (``p_value``, the headline) with the mean difference and its corrected
interval, the plain paired t-test (``p_naive``), Holm's adjustment across the section's compared
rows (``p_holm``), wins / ties / losses and the Bayesian correlated t-test's three probabilities.
With fewer than two shared splits there is no test (``p_value`` empty, ``test_note`` says why).
"""

from __future__ import annotations

import math

import numpy as np

from benchmark.report.collect import RowRuns
from benchmark.splits import TRAIN_FRACTION
from benchmark.statistics import significance as sig
from benchmark.statistics.mcnemar import mcnemar_compare
from benchmark.statistics.rows import summarize

TEST_NAME = sig.NAME
NOMINAL_RATIO = (1 - TRAIN_FRACTION) / TRAIN_FRACTION  # n_test/n_train of the 2/3 protocol (runs without sizes)

COLUMNS = [
    "table",
    "row",
    "reported",
    "ran",
    "running",
    "mean",
    "std",
    "n_splits",
    "n_expected",
    "paper",
    "delta",
    "p_value",
    "n_paired",
    "test_note",
    *[k for k in sig.RECORD_KEYS if k != "p_value"],
    "best_epoch_mean",
    "best_epoch_gain",
    "missing",
    "ceiling",
    "n_parameters",
    "seconds_per_epoch",
    "design",
    "test",
    "sizes_from",
]


def _mean_finite(values) -> float:
    """Mean of the finite values (runs logged before ``seconds_per_epoch`` existed have none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else math.nan


def NOT_COMPARED(rope: float) -> sig.Comparison:  # noqa: N802 - a constant-like factory
    """The comparison record of a row that is not compared (reference, reported, nothing finished)."""
    return sig.Comparison(rope=rope, wins=math.nan, ties=math.nan, losses=math.nan)


def sizes_of(row: RowRuns) -> dict[int, tuple[int, int]]:
    """(n_train, n_test) of the row's finished splits that recorded them."""
    return {s.split: (s.n_train, s.n_test) for s in row.finished if s.n_train > 0 and s.n_test > 0}


def comparison(row: RowRuns, reference: RowRuns, rope: float = sig.DEFAULT_ROPE) -> sig.Comparison:
    """``row`` against ``reference`` over their shared finished splits, with the sizes either recorded
    (a split has the same sizes in both: same split protocol; the row's own first)."""
    design = row.design or reference.design
    if design == sig.SINGLE:  # one split: the paired unit is the test video (McNemar), not the split
        mine, theirs = (next((s.correct for s in r.finished if s.correct), None) for r in (row, reference))
        if mine and theirs:
            paired = mcnemar_compare(mine, theirs)
            paired.rope = rope
            return paired
    accs = {s.split: s.test_acc for s in row.finished}
    ref = {s.split: s.test_acc for s in reference.finished}
    sizes = {**sizes_of(reference), **sizes_of(row)}
    ratio = sig.size_ratio(sizes, sorted(set(accs) & set(ref)))
    nominal = ratio is None and design == sig.SUBSAMPLING
    out = sig.compare(accs, ref, NOMINAL_RATIO if nominal else ratio, rope, design)
    if nominal and math.isfinite(out.p_value):
        out.sizes_from = sig.NOMINAL_SIZES
    return out


def nominal_sizes_note(record) -> str:
    """The footnote of a row whose corrected test assumed the protocol's split sizes (else "")."""
    if record.get("sizes_from") != sig.NOMINAL_SIZES:
        return ""
    return (
        "split sizes not recorded by its runs (no n_train/n_test params, no split.json): the corrected p "
        f"assumes the protocol's n_test/n_train = {NOMINAL_RATIO:.2f}"
    )


def row_stats(rows: list[RowRuns], reference: str | None, rope: float = sig.DEFAULT_ROPE):
    """One record per row (reported rows included), in suite order, as a pandas DataFrame."""
    import pandas as pd

    ref_row = next((r for r in rows if r.row.name == reference), None) if reference else None
    compared = {
        r.row.name: comparison(r, ref_row, rope)
        for r in rows
        if ref_row is not None and not r.row.reported and r.row.name != reference and r.finished
    }
    sig.with_holm(list(compared.values()))
    records = []
    for r in rows:
        finished = r.finished
        accuracy = summarize([s.test_acc for s in finished], 100.0)
        n, mean = accuracy.n, accuracy.mean
        best_mean = summarize([s.test_acc_best_epoch for s in finished], 100.0).mean
        test = compared.get(r.row.name, NOT_COMPARED(rope))
        note = test.note
        if r.row.reported:
            note = "reported in the literature, not re-run"
        elif r.row.name == reference:
            note = "reference"
        elif reference and n and ref_row is None:
            note = "reference row not in the table"
        elif reference and not n:
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
                "std": accuracy.std,
                "n_splits": n,
                "n_expected": r.n_expected,
                "paper": paper,
                "delta": mean - paper if n and math.isfinite(paper) else math.nan,
                **test.as_record(),
                "n_paired": test.n_paired,
                "test_note": note,
                "sizes_from": test.sizes_from,
                "best_epoch_mean": best_mean,
                "best_epoch_gain": best_mean - mean if n else math.nan,
                "missing": "; ".join(r.problems) if not r.row.reported else "",
                "ceiling": 100.0 * r.ceiling,  # best reachable (synthetic stores), NaN elsewhere
                "n_parameters": r.n_parameters if r.n_parameters is not None else math.nan,
                "seconds_per_epoch": _mean_finite([s.seconds_per_epoch for s in finished]),
                "design": r.design,
                "test": getattr(test, "test", "") or ("corrected t-test" if math.isfinite(test.p_value) else ""),
            }
        )
    return pd.DataFrame.from_records(records, columns=COLUMNS)
