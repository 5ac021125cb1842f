"""``table.csv`` and its ``table.meta.json``: the machine-readable table (percent, one row per suite row) and its
provenance."""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmark.report import header as hdr
from benchmark.report.collect import Header
from benchmark.report.nested_row import footnote_of
from benchmark.report.stats import nominal_sizes_note
from benchmark.report.tables import COUNTS, CSV_COLUMNS, P_VALUES, PERCENT, PROBABILITIES, status
from benchmark.statistics.significance import BAYES_NAME, HOLM_NAME
from benchmark.statistics.significance import NAME as TEST_NAME


def csv_frame(frame):
    """The machine-readable table: one row per suite row, percentages."""
    out = frame.copy()
    out["status"] = [status(r) for r in out.to_dict("records")]
    out["note"] = [
        "; ".join(x for x in (r["test_note"], r["missing"], nominal_sizes_note(r), footnote_of(r)) if x)
        for r in out.to_dict("records")
    ]
    from benchmark.report.metric_columns import metric_columns
    from benchmark.report.robustness import COST

    extra = [c for c in [*metric_columns(), *COST] if c in out]
    out = out[CSV_COLUMNS + extra]
    out[[c for c in extra if not c.endswith("_p_value")]] = (
        out[[c for c in extra if not c.endswith("_p_value")]].astype(float).round(4)
    )
    for column in [c for c in extra if c.endswith("_p_value")]:
        out[column] = out[column].map(lambda p: float(f"{p:.4g}") if math.isfinite(p) else math.nan)
    out[PERCENT] = out[PERCENT].round(4)
    out[COUNTS] = out[COUNTS].astype("Int64")  # whole numbers, empty where the row is not compared
    for column in P_VALUES + PROBABILITIES:
        out[column] = out[column].map(lambda p: float(f"{p:.4g}") if math.isfinite(p) else math.nan)
    return out


META_NAME = "table.meta.json"


def write_csv(path: Path, frame, header: Header, incomplete: list[str]) -> None:
    """``table.csv`` (a ``warning`` column first, then :data:`CSV_COLUMNS`) and its ``table.meta.json``."""
    out = csv_frame(frame)
    out.insert(0, "warning", " ".join(hdr.warnings(header)))
    out.to_csv(path, index=False)
    path.with_name(META_NAME).write_text(json.dumps(meta(header, incomplete), indent=1, ensure_ascii=False) + "\n")


def meta(header: Header, incomplete: list[str]) -> dict:
    """The CSV's provenance: where its numbers come from, warnings, notes and units."""
    return {
        "warnings": hdr.warnings(header),
        "suite": header.suite,
        "title": header.title,
        "dataset": header.dataset,
        "dataset_fingerprints": header.dataset_fingerprints,
        "synthetic": header.synthetic,
        "random_extractors": header.random_extractors,
        "profiles": header.profiles,
        "split_sources": header.split_sources,
        "n_splits": header.n_splits,
        "commits": header.commits,
        "date": header.date,
        "tracking_uri": header.tracking_uri,
        "header": dict(hdr.lines(header)),
        "notes": hdr.notes(header, incomplete),
        "units": {
            "mean": "%",
            "std": "%",
            "paper": "%",
            "delta": "points",
            "best_epoch_mean": "%",
            "best_epoch_gain": "points",
            "diff": "points",
            "diff_ci_low": "points",
            "diff_ci_high": "points",
            "rope": "points",
        },
        "test": {
            "p_value": TEST_NAME,
            "p_naive": "plain paired t-test (scipy.stats.ttest_rel, two-sided): anti-conservative on overlapping "
            "splits",
            "p_holm": HOLM_NAME + ", across the compared rows of each table",
            "prob_*": BAYES_NAME,
            "diff_ci": "corrected 95 % interval of the mean difference (row − reference)",
        },
    }
