"""The nested row of a sweep table (paper Table 3): "alpha chosen on validation (nested)".

A sweep section (``layout = "sweep"``, e.g. alpha) gains one row when MLflow holds a nested
evaluation (``bench tune --param alpha --nested``, parent ``bench.kind = nested``) that searched
exactly the swept parameter in the same setting as the section's rows (dataset, split protocol,
profile, training parameters; the latest such parent). Its cells are the outer splits' test
accuracies (mean ± std, n, p against the reference row, as any row). Its footnote gives the value
chosen on each outer split and the selection bias: the best row of the table (by mean, the way the
paper picked alpha = 4) minus the nested row, averaged over the splits both finished, with its
corrected interval and the corrected resampled t-test over those splits (the naive p beside it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from benchmark import tracking
from benchmark.report.collect import Collected, RowRuns, SplitRecord, touched
from benchmark.report.stats import comparison
from benchmark.suite import Suite, SuiteRow, sections
from benchmark.tracking.parents import setting_of_run
from benchmark.tracking.tags import TAG
from features.format import PAPER_MODALITIES

FOOTNOTE = "footnote"


def row_name(sweep: str) -> str:
    return f"{sweep} chosen on validation (nested)"


@dataclass
class NestedRowRuns(RowRuns):
    """A nested evaluation as a row: one split record per outer split, and what each one chose."""

    chosen: dict[int, str] = field(default_factory=dict)


def attach(collected: Collected, uri: str | None = None) -> Collected:
    """``collected`` with a nested row appended to every sweep section that has one in MLflow."""
    client = None
    suite = collected.suite
    rows = list(collected.rows)
    for part in sections(suite):
        if part.layout != "sweep" or not part.sweep:
            continue
        measured = [r.parent_id for r in collected.rows_of(part.name) if r.parent_id is not None]
        if not measured:
            continue
        client = client or tracking.client(uri)
        parent = _nested_parent(client, measured[0], part.sweep)
        if parent is None:
            continue
        nested_row = _row_runs(
            client,
            parent,
            SuiteRow(name=row_name(part.sweep), model="proposed", modalities=PAPER_MODALITIES, table=part.name),
        )
        rows.append(nested_row)
        suite = _with_row(suite, part.name, nested_row.row)
    return replace(collected, suite=suite, rows=rows)


def _nested_parent(client, table_parent_id: str, sweep: str):
    """The latest nested parent that searched ``sweep`` alone, in the setting of the table's parent."""
    table_parent = client.get_run(table_parent_id)
    setting = setting_of_run(table_parent)
    dataset = table_parent.data.tags.get(f"{TAG}dataset_fingerprint", "")
    query = (
        f"tags.`{TAG}kind` = '{tracking.NESTED}' and tags.`{TAG}params` = '{sweep}'"
        f" and tags.`{TAG}dataset_fingerprint` = '{dataset}'"
    )
    runs = [
        r for r in tracking.search_all(client, [table_parent.info.experiment_id], query) if setting_of_run(r) == setting
    ]
    return max(runs, key=touched, default=None)


def _row_runs(client, parent, row: SuiteRow) -> NestedRowRuns:
    tags = parent.data.tags
    children = tracking.search_all(
        client,
        [parent.info.experiment_id],
        f"tags.`{TAG}kind` = '{tracking.NESTED_SPLIT}' and tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
    )
    expected = tags.get(f"{TAG}n_expected_splits", "")
    n_expected = (
        int(expected)
        if expected.isdigit()
        else 1 + max((int(c.data.tags.get(f"{TAG}split", -1)) for c in children), default=-1)
    )
    result = NestedRowRuns(row, parent.info.run_id, parent.info.status, n_expected)
    for child in sorted(children, key=touched):  # the latest run of a split wins, a finished one first
        k = int(child.data.tags.get(f"{TAG}split", -1))
        if not 0 <= k < n_expected:
            continue
        metrics = child.data.metrics
        record = SplitRecord(
            split=k,
            run_id=child.info.run_id,
            status=child.info.status,
            test_acc=float(metrics.get("test_acc", math.nan)),
            reason=child.data.tags.get(f"{TAG}failure_reason", ""),
            commit=child.data.tags.get("mlflow.source.git.commit", ""),
        )
        if record.finished or k not in result.splits or not result.splits[k].finished:
            result.splits[k] = record
            chosen = {n[len("chosen.") :]: v for n, v in child.data.params.items() if n.startswith("chosen.")}
            result.chosen[k] = (
                ", ".join(chosen.values()) if len(chosen) == 1 else ", ".join(f"{n}={v}" for n, v in chosen.items())
            )
    return result


def _with_row(suite: Suite, table: str, row: SuiteRow) -> Suite:
    if suite.parts:
        parts = tuple(_with_row(p, table, row) if p.name == table else p for p in suite.parts)
        return replace(suite, parts=parts, rows=suite.rows + (row,))
    return replace(suite, rows=suite.rows + (row,))


def annotate(frame, collected: Collected):
    """The statistics frame with a ``footnote`` column: chosen values and selection bias of nested rows."""
    frame = frame.copy()
    frame[FOOTNOTE] = ""
    for nested_row in (r for r in collected.rows if isinstance(r, NestedRowRuns)):
        others = [r for r in collected.rows_of(nested_row.row.table) if not isinstance(r, NestedRowRuns) and r.finished]
        text = footnote(nested_row, others)
        where = (frame["table"] == nested_row.row.table) & (frame["row"] == nested_row.row.name)
        frame.loc[where, FOOTNOTE] = text
    return frame


def footnote(nested_row: NestedRowRuns, rows: list[RowRuns]) -> str:
    chosen = "; ".join(
        f"split {k}: {nested_row.chosen[k]}" for k in sorted(nested_row.chosen) if nested_row.splits[k].finished
    )
    text = f"value chosen on validation inside each outer split's training part: {chosen or 'none yet'}"
    nested = {s.split: s.test_acc for s in nested_row.finished}
    if not rows or not nested:
        return text
    best = max(rows, key=lambda r: float(np.mean([s.test_acc for s in r.finished])))
    best_accs = {s.split: s.test_acc for s in best.finished}
    shared = sorted(set(best_accs) & set(nested))
    if not shared:
        return text + f". Selection bias: no split shared with the best row ({best.row.name})"
    test = comparison(best, nested_row)
    if math.isfinite(test.p_value):
        stat = (
            f"95 % CI [{test.diff_ci_low:+.1f}, {test.diff_ci_high:+.1f}], corrected resampled t-test p = "
            f"{test.p_value:.3g}, "
            f"naive paired t-test p = {test.p_naive:.3g}"
        )
    else:
        stat = f"no p-value, {test.note}"
    return text + (
        f". Selection bias = best row ({best.row.name}, picked on test accuracy) − nested = {test.diff:+.1f} points "
        f"over the {len(shared)} splits both finished ({stat})"
    )


def footnote_of(record: dict[str, Any]) -> str:
    """A frame record's footnote ('' when none; the column is absent for suites without a sweep)."""
    value = record.get(FOOTNOTE)
    return value if isinstance(value, str) else ""
