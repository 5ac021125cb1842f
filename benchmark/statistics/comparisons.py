"""Each row against its table's reference at the end of ``bench run``, from the runner's split results:
the corrected resampled t-test over several splits (:mod:`.significance`), Holm across each table's rows.
:mod:`benchmark.tracking.comparisons` logs the records on the parents."""

from __future__ import annotations

from collections.abc import Sequence

from benchmark.statistics import significance as sig
from benchmark.suite import sections


def split_design(splits) -> str:
    """The design of ``bench run``'s splits (random subsampling, k-fold files, one split, other files)."""
    random = bool(splits) and splits[0].source.startswith("random")
    return sig.design_of([(s.train, s.test) for s in splits], random)


def compare_results(
    suite, results: Sequence, splits, rope: float = sig.DEFAULT_ROPE
) -> dict[tuple[str, str], sig.Comparison]:
    """(table, row) -> comparison with the table's reference row, Holm across each table's rows.

    ``results`` are the runner's row results (``splits`` holds the split index of each accuracy).
    """
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
            table[(r.row.table, r.row.name)] = sig.compare(
                accs, ref, sig.size_ratio(sizes, sorted(set(accs) & set(ref))), rope, design
            )
        sig.with_holm(list(table.values()))
        out.update(table)
    return out
