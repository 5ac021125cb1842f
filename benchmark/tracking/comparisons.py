"""Each row against its table's reference at the end of ``bench run``: the figures of the report's
comparison (:mod:`benchmark.report.significance`), computed from this run's split results and put on
every compared parent run as metrics, so the MLflow UI and ``search_runs`` show them.

Parent metrics (accuracy differences as fractions, like every accuracy in MLflow): ``test_acc_diff``,
``test_acc_diff_ci_low``, ``test_acc_diff_ci_high``, ``test_acc_rope``; ``p_value`` (corrected),
``p_naive``, ``p_holm``, ``wins``, ``ties``, ``losses``, ``prob_reference_better``,
``prob_equivalent``, ``prob_row_better``. Parent tags: ``bench.reference`` (the row compared with) and
``bench.split_design`` (which correction the splits call for), on every parent of the run.
"""

from __future__ import annotations

from typing import Sequence

from benchmark import tracking
from benchmark.report import significance as sig

T = tracking.TAG
FRACTIONS = {"diff": "test_acc_diff", "diff_ci_low": "test_acc_diff_ci_low", "diff_ci_high": "test_acc_diff_ci_high", "rope": "test_acc_rope"}


def split_design(splits) -> str:
    """The design of ``bench run``'s splits (random subsampling, k-fold files, one split, other files)."""
    random = bool(splits) and splits[0].source.startswith("random")
    return sig.design_of([(s.train, s.test) for s in splits], random)


def compare_results(suite, results: Sequence, splits, rope: float = sig.DEFAULT_ROPE) -> dict[tuple[str, str], sig.Comparison]:
    """(table, row) -> comparison with the table's reference row, Holm across each table's rows.

    ``results`` are the runner's row results (``splits`` holds the split index of each accuracy).
    """
    from benchmark.report.collect import sections

    sizes = {s.index: (len(s.train), len(s.test)) for s in splits}
    design = split_design(splits)
    by_key = {(r.row.table, r.row.name): r for r in results}
    out: dict[tuple[str, str], sig.Comparison] = {}
    for part in sections(suite):
        reference = by_key.get((part.name, part.reference)) if part.reference else None
        if reference is None:
            continue
        ref = dict(zip(reference.splits, reference.accuracies))
        table = {}
        for r in results:
            if r.row.table != part.name or r.row.name == part.reference or not r.accuracies:
                continue
            accs = dict(zip(r.splits, r.accuracies))
            table[(r.row.table, r.row.name)] = sig.compare(accs, ref, sig.size_ratio(sizes, sorted(set(accs) & set(ref))), rope, design)
        sig.with_holm(list(table.values()))
        out.update(table)
    return out


def log_comparisons(client, suite, results: Sequence, comparisons: dict[tuple[str, str], sig.Comparison], design: str) -> None:
    """The comparisons as metrics of the compared parents; the reference and design as tags of every parent."""
    from benchmark.report.collect import sections

    references = {part.name: part.reference for part in sections(suite)}
    for r in results:
        if not r.parent_run_id:
            continue
        tags = {f"{T}{sig.DESIGN_TAG}": design}
        if references.get(r.row.table):
            tags[f"{T}reference"] = references[r.row.table]
        tracking.set_tags(client, r.parent_run_id, tags)
        comparison = comparisons.get((r.row.table, r.row.name))
        if comparison is None:
            continue
        record = comparison.as_record()
        metrics = {FRACTIONS.get(k, k): (v / 100.0 if k in FRACTIONS else v) for k, v in record.items()}
        tracking.log_metrics(client, r.parent_run_id, metrics)
