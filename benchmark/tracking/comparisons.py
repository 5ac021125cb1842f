"""Each row against its table's reference at the end of ``bench run`` (computed by
:mod:`benchmark.statistics.comparisons` from this run's split results), put on every compared parent run
as metrics, so the MLflow UI and ``search_runs`` show them.

Parent metrics (accuracy differences as fractions, like every accuracy in MLflow): ``test_acc_diff``,
``test_acc_diff_ci_low``, ``test_acc_diff_ci_high``, ``test_acc_rope``; ``p_value`` (corrected),
``p_naive``, ``p_holm``, ``wins``, ``ties``, ``losses``, ``prob_reference_better``,
``prob_equivalent``, ``prob_row_better``. Parent tags: ``bench.reference`` (the row compared with) and
``bench.split_design`` (which correction the splits call for), on every parent of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from benchmark import tracking
from benchmark.statistics import significance as sig
from benchmark.suite import sections
from benchmark.tracking.tags import TAG

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from benchmark.suite import Suite, SuiteRow


class ComparedRow(Protocol):
    """What this module reads of a row's result (a ``benchmark.runner.RowResult``)."""

    @property
    def row(self) -> SuiteRow: ...

    @property
    def parent_run_id(self) -> str | None: ...


FRACTIONS = {
    "diff": "test_acc_diff",
    "diff_ci_low": "test_acc_diff_ci_low",
    "diff_ci_high": "test_acc_diff_ci_high",
    "rope": "test_acc_rope",
}


def log_comparisons(
    client: MlflowClient,
    suite: Suite,
    results: Sequence[ComparedRow],
    comparisons: dict[tuple[str, str], sig.Comparison],
    design: str,
) -> None:
    """The comparisons as metrics of the compared parents; the reference and design as tags of every parent."""
    references = {part.name: part.reference for part in sections(suite)}
    for r in results:
        if not r.parent_run_id:
            continue
        tags = {f"{TAG}{sig.DESIGN_TAG}": design}
        reference = references.get(r.row.table)
        if reference:
            tags[f"{TAG}reference"] = reference
        tracking.set_tags(client, r.parent_run_id, tags)
        comparison = comparisons.get((r.row.table, r.row.name))
        if comparison is None:
            continue
        record = comparison.as_record()
        metrics = {FRACTIONS.get(k, k): (v / 100.0 if k in FRACTIONS else v) for k, v in record.items()}
        tracking.log_metrics(client, r.parent_run_id, metrics)
