"""The paper tables' columns as a specification: each :class:`Column` says its header, the cell of a measured
row, the cell of a reported-only row, where it applies and how it aligns. :func:`columns_for` lists a
section's columns; a new column (a registered metric with ``--metrics``, a cost) is one entry here, never
an edit of positional cells."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from benchmark.suite import Suite, SuiteRow
from features.format import PAPER_MODALITIES


@dataclass(frozen=True)
class Cell:
    """What a column's cell function sees: the row's statistics record, its suite row, the flavour's symbols."""

    record: dict
    row: SuiteRow
    flavour: Any  # tables.Flavour
    state: str  # tables.status(record)


@dataclass(frozen=True)
class Column:
    header: str  # already escaped for the flavour
    cell: Callable[[Cell], str]
    reported: Callable[[Cell], str] | None = None  # a reported-only row's cell (default: a dash)
    align: str = "r"


def num(value: float, digits: int = 1, sign: bool = False) -> str | None:
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def count(value: float) -> str | None:
    """A parameter count with thousands separators (``1,234,567``)."""
    if value is None or not math.isfinite(value):
        return None
    return f"{int(value):,}"


def p_text(value: float) -> str | None:
    if not math.isfinite(value):
        return None
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def mean_std(c: Cell, mean_key: str, std_key: str) -> str:
    mean, std = num(c.record.get(mean_key, math.nan)), num(c.record.get(std_key, math.nan))
    if mean is None:
        return c.flavour.dash
    return mean + c.flavour.pm + (std if std else "n/a")


def _uses(c: Cell, modality: str) -> str:
    """The methods layout's modality column: a check where the row uses the modality."""
    return c.flavour.check if modality in c.row.modalities else c.flavour.absent


def _n(c: Cell) -> str:
    if c.state == "complete":
        return str(c.record["n_splits"])
    return f"{c.record['n_splits']}/{c.record['n_expected'] or '?'}{c.flavour.dagger}"


def _compared(c: Cell, cell: Callable[[Cell], str], reference_text: str) -> str:
    return reference_text if c.record["test_note"] == "reference" else cell(c)


def _diff(c: Cell) -> str:
    r, esc, dash = c.record, c.flavour.escape, c.flavour.dash
    diff = num(r["diff"], sign=True)
    low, high = num(r["diff_ci_low"], sign=True), num(r["diff_ci_high"], sign=True)
    if diff is None:
        return dash
    if low is None or (r["diff_ci_low"] == r["diff_ci_high"] == r["diff"]):
        return esc(diff)
    return esc(f"{diff} [{low}, {high}]")


def _wtl(c: Cell) -> str:
    r = c.record
    n = r["wins"] + r["ties"] + r["losses"] if math.isfinite(r["diff"]) else 0
    return f"{r['wins']:.0f}/{r['ties']:.0f}/{r['losses']:.0f}" if n else c.flavour.dash


def _probabilities(c: Cell) -> str:
    probs = [c.record[k] for k in ("prob_reference_better", "prob_equivalent", "prob_row_better")]
    return " / ".join(f"{v:.2f}" for v in probs) if all(math.isfinite(v) for v in probs) else c.flavour.dash


def _best(c: Cell) -> str:
    best, gain = num(c.record["best_epoch_mean"]), num(c.record["best_epoch_gain"], sign=True)
    return c.flavour.dash if best is None else f"{best} ({gain})"


def _p(key: str) -> Callable[[Cell], str]:
    return lambda c: c.flavour.escape(p_text(c.record[key]) or "") or c.flavour.dash


def columns_for(section: Suite, frame, flavour: Any, metrics: list[str], tex: bool) -> list[Column]:
    """The columns of one section: name, modality checks (``methods``), accuracy and its comparison, each of
    ``metrics`` (registered names other than accuracy), best epoch, costs (``costs = true``), best reachable."""
    from benchmark.metrics import get_metric

    esc, dash = flavour.escape, flavour.dash
    reference = section.reference
    out: list[Column] = []
    if section.layout == "methods":
        for m in PAPER_MODALITIES:
            out.append(
                Column(
                    esc(m.capitalize()),
                    partial(_uses, modality=m),
                    partial(_uses, modality=m),
                    align="c",
                )
            )
    paper = Column(esc("Paper (%)"), lambda c: num(c.record["paper"]) or dash, lambda c: num(c.record["paper"]) or dash)
    out += [
        Column(esc("Accuracy (%)"), lambda c: mean_std(c, "mean", "std"), lambda c: "reported"),
        Column("n", _n),
        paper,
        Column(r"$\Delta$" if tex else "Δ", lambda c: num(c.record["delta"], sign=True) or dash),
        Column(
            esc(f"Diff vs {reference} [95% CI]") if reference else esc("Diff"), lambda c: _compared(c, _diff, "ref.")
        ),
        Column(esc(f"p vs {reference}") if reference else "p", lambda c: _compared(c, _p("p_value"), "ref.")),
        Column(esc("p Holm"), lambda c: _compared(c, _p("p_holm"), dash)),
        Column(esc("W/T/L"), lambda c: _compared(c, _wtl, dash)),
        Column(
            esc("P(ref / ≈ / row)") if not tex else r"P(ref / $\approx$ / row)",
            lambda c: _compared(c, _probabilities, dash),
        ),
    ]
    for name in metrics:
        metric = get_metric(name)
        digits = 1 if metric.unit == "%" else 3
        out.append(Column(esc(metric.header), partial(_metric_cell, name=name, digits=digits)))
    out.append(Column(esc("Best epoch (%)"), _best))
    if section.costs:
        out += [
            Column(esc("Params"), lambda c: count(c.record["n_parameters"]) or dash),
            Column(esc("s/epoch"), lambda c: num(c.record["seconds_per_epoch"], digits=2) or dash),
        ]
    if "ceiling" in frame and bool(frame["ceiling"].notna().any()):  # synthetic stores: the Bayes oracle's accuracy
        out.append(Column(esc("Best reachable (%)"), lambda c: num(c.record["ceiling"]) or dash))
    return out


def _metric_cell(c: Cell, name: str, digits: int) -> str:
    mean, std = num(c.record.get(name, math.nan), digits), num(c.record.get(f"{name}_std", math.nan), digits)
    if mean is None:
        return c.flavour.dash
    return mean + c.flavour.pm + (std if std else "n/a")
