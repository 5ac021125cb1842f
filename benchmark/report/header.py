"""The header every output carries: where the numbers come from, and warnings that cannot be missed."""

from __future__ import annotations

from benchmark.report.collect import Header
from benchmark.statistics.significance import BAYES_NAME, HOLM_NAME
from benchmark.statistics.significance import NAME as TEST_NAME


def warnings(header: Header) -> list[str]:
    """Loud lines: data or features that make the numbers meaningless for real videos."""
    out = []
    if header.synthetic:
        out.append("SYNTHETIC DATA: these numbers come from a generated dataset and say nothing about real videos.")
    if header.random_extractors:
        out.append(
            f"RANDOMLY INITIALISED EXTRACTORS ({', '.join(header.random_extractors)}): "
            "the features carry no meaning, and neither do these numbers."
        )
    return out


def notes(header: Header, incomplete: list[str]) -> list[str]:
    """Quieter caveats: a demo profile, rows with missing splits, mixed settings."""
    out = list(header.notes)
    other = [p for p in header.profiles if p != "paper"]
    if other:
        out.append(f"profile {', '.join(other)} is not the paper's protocol (use --profile paper for that)")
    if incomplete:
        out.append(f"rows with missing or failed splits (marked †, n shown): {', '.join(incomplete)}")
    return out


def lines(header: Header) -> list[tuple[str, str]]:
    """(label, value) pairs, in reading order."""
    return [
        ("Suite", f"{header.suite}: {header.title}"),
        ("Dataset", f"{header.dataset}, fingerprint {', '.join(header.dataset_fingerprints) or 'unknown'}"),
        ("Profile", ", ".join(header.profiles) or "unknown"),
        ("Precision", ", ".join(header.precisions) or "fp32"),
        ("Splits", f"{header.n_splits} ({', '.join(header.split_sources) or 'unknown protocol'})"),
        ("Git commit", (", ".join(header.commits) or "unknown") + " (of the split runs)"),
        ("Date", header.date),
        ("Tracking", header.tracking_uri),
        ("Metric", "test accuracy after the last epoch, mean ± sample std (ddof=1) over splits, in %"),
        (
            "Test",
            f"{TEST_NAME} of each row against the reference row over the splits both finished, with the "
            f"corrected 95 % interval of the difference; {HOLM_NAME} across each table's rows; {BAYES_NAME} with a "
            f"region of practical equivalence of ±{header.rope:g} accuracy points. The plain paired t-test "
            "(anti-conservative on overlapping splits) is in table.csv as p_naive.",
        ),
    ]


def plain(header: Header, incomplete: list[str], prefix: str = "") -> list[str]:
    """The header as text lines (for comment headers in CSV and LaTeX)."""
    out = [f"{prefix}WARNING: {w}" for w in warnings(header)]
    out += [f"{prefix}{label}: {value}" for label, value in lines(header)]
    out += [f"{prefix}Note: {n}" for n in notes(header, incomplete)]
    return out
