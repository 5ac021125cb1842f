"""The paper's table layouts as Markdown, LaTeX (booktabs) and CSV.

Layouts (the suite's ``layout``): ``methods`` (paper Table 1: Visual / Audio / Skeleton check
columns, reported-only rows marked "reported"), ``ablation`` (Table 2), ``sweep`` (Table 3: the swept
parameter's value as the first column), anything else as a plain row list. A measured cell is
mean ± std over splits with n beside it; rows with missing or failed splits show n as ``found/expected``
with a dagger and a footnote that says which splits and why.

``table.csv`` is a plain CSV (``pandas.read_csv(path)`` with no options: one row per suite row);
its first column, ``warning``, repeats the synthetic-data / random-extractor warning on every row
(empty for real data), so a reader of the CSV alone still sees it. The provenance header goes to the
``table.meta.json`` sidecar. Numbers are percentages rounded to 4 decimals, p-values to 4
significant digits.
"""

from __future__ import annotations

import html as _html
import math
import re
from dataclasses import dataclass
from typing import Callable

from benchmark.config import MODALITIES
from benchmark.report import header as hdr
from benchmark.report.collect import Header
from benchmark.report.nested import footnote_of
from benchmark.statistics.significance import Footnote
from benchmark.suite import Suite

CSV_COLUMNS = [
    "table", "row", "mean", "std", "n_splits", "n_expected", "paper", "delta", "p_value", "n_paired",
    "best_epoch_mean", "best_epoch_gain", "status", "note", "ceiling", "n_parameters", "seconds_per_epoch",
    "p_naive", "p_holm", "diff", "diff_ci_low", "diff_ci_high", "wins", "ties", "losses",
    "prob_reference_better", "prob_equivalent", "prob_row_better", "rope",
]
PERCENT = ["mean", "std", "paper", "delta", "best_epoch_mean", "best_epoch_gain", "ceiling", "diff", "diff_ci_low", "diff_ci_high"]
P_VALUES = ["p_value", "p_naive", "p_holm"]
COUNTS = ["wins", "ties", "losses"]
PROBABILITIES = ["prob_reference_better", "prob_equivalent", "prob_row_better"]
SWEEP_SYMBOLS = {"alpha": ("α", r"$\alpha$")}


@dataclass(frozen=True)
class Flavour:
    pm: str
    check: str
    absent: str
    dagger: str
    dash: str
    escape: Callable[[str], str]


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$",
                "{": r"\{", "}": r"\}", "<": r"$<$", ">": r"$>$", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex_escape(text: str) -> str:
    """LaTeX special characters escaped in one pass (so replacements are never escaped again)."""
    return re.sub(r"[\\&%_#${}<>~^]", lambda m: _TEX_SPECIAL[m.group()], text)


MD = Flavour(" ± ", "✓", "–", "†", "—", lambda s: s.replace("|", r"\|"))
TEX = Flavour(r" $\pm$ ", r"\checkmark", "--", r"$^\dagger$", "--", _tex_escape)
HTML = Flavour(" ± ", "✓", "–", "†", "—", _html.escape)


def _num(value: float, digits: int = 1, sign: bool = False) -> str | None:
    if value is None or not math.isfinite(value):
        return None
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _count(value: float) -> str | None:
    """A parameter count with thousands separators (``1,234,567``)."""
    if value is None or not math.isfinite(value):
        return None
    return f"{int(value):,}"


def _p(value: float) -> str | None:
    if not math.isfinite(value):
        return None
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def status(record) -> str:
    """``reported``, ``complete``, ``incomplete`` (some splits missing), ``failed`` (none finished),
    ``running`` (its ``bench run`` is still going) or ``not run``."""
    if record["reported"]:
        return "reported"
    if not record["ran"]:
        return "not run"
    if record["n_splits"] == record["n_expected"] and record["n_expected"]:
        return "complete"
    if record["running"]:
        return "running"
    if not record["n_expected"]:  # its bench run ended before any split started
        return "not run"
    return "incomplete" if record["n_splits"] else "failed"


def display(section: Suite, frame, flavour: Flavour) -> tuple[list[str], list[list[str]], list[str]]:
    """Column names, cell strings and footnotes of one paper table."""
    esc, dash = flavour.escape, flavour.dash
    reference = section.reference
    first = "Method"
    if section.layout == "sweep" and section.sweep:
        md_symbol, tex_symbol = SWEEP_SYMBOLS.get(section.sweep, (section.sweep, section.sweep))
        first = tex_symbol if flavour is TEX else esc(md_symbol)
    columns = [first]
    if section.layout == "methods":
        columns += [esc(m.capitalize()) for m in MODALITIES]
    columns += [
        esc("Accuracy (%)"), "n", esc("Paper (%)"),
        r"$\Delta$" if flavour is TEX else "Δ",
        esc(f"Diff vs {reference} [95% CI]") if reference else esc("Diff"),
        esc(f"p vs {reference}") if reference else "p",
        esc("p Holm"), esc("W/T/L"), esc("P(ref / ≈ / row)") if flavour is not TEX else r"P(ref / $\approx$ / row)",
        esc("Best epoch (%)"),
    ]
    if section.costs:
        columns += [esc("Params"), esc("s/epoch")]
    rows, footnotes = [], []
    ceilings = "ceiling" in frame and bool(frame["ceiling"].notna().any())  # synthetic stores: the Bayes oracle's accuracy
    if ceilings:
        columns.append(esc("Best reachable (%)"))
        footnotes.append(esc(
            "Best reachable: accuracy of the Bayes rule that knows the synthetic generator, given the row's "
            "modalities (Monte Carlo on fresh videos); no model beats it on average."
        ))
    by_name = {row.name: row for row in section.rows}
    for record in frame.to_dict("records"):
        row = by_name[record["row"]]
        name = esc(record["row"])
        if section.layout == "sweep" and section.sweep and section.sweep in row.params:
            name = esc(str(row.params[section.sweep]))
        cells = [name]
        if section.layout == "methods":
            cells += [flavour.check if m in row.modalities else flavour.absent for m in MODALITIES]
        paper = _num(record["paper"]) or dash
        state = status(record)
        if state == "reported":
            cells += ["reported", dash, paper] + [dash] * 7 + ([dash, dash] if section.costs else []) + [dash] * ceilings
            if row.source:
                footnotes.append(esc(f"{row.name}: {row.source}"))
            rows.append(cells)
            continue
        mean, std = _num(record["mean"]), _num(record["std"])
        accuracy = dash if mean is None else (mean + flavour.pm + std if std else mean + flavour.pm + "n/a")
        n = str(record["n_splits"])
        if state != "complete":
            n = f"{record['n_splits']}/{record['n_expected'] or '?'}{flavour.dagger}"
            footnotes.append(flavour.dagger + " " + esc(f"{row.name}: {record['missing']}"))
        if record["test_note"] == "reference":
            comparison = ["ref.", "ref.", dash, dash, dash]
        else:
            comparison = _comparison_cells(record, flavour)
            if record["test_note"]:
                footnotes.append(esc(f"{row.name}: no p-value, {record['test_note']}"))
        best = _num(record["best_epoch_mean"])
        gain = _num(record["best_epoch_gain"], sign=True)
        best_cell = dash if best is None else f"{best} ({gain})"
        cells += [accuracy, n, paper, _num(record["delta"], sign=True) or dash, *comparison, best_cell]
        if section.costs:  # Params and s/epoch come before Best reachable, as in the columns
            cells += [_count(record["n_parameters"]) or dash, _num(record["seconds_per_epoch"], digits=2) or dash]
        if ceilings:
            cells.append(_num(record["ceiling"]) or dash)
        rows.append(cells)
        if footnote_of(record):  # the nested row's chosen values and selection bias
            footnotes.append(esc(f"{row.name}: {footnote_of(record)}"))
    if reference:
        rope = next((r["rope"] for r in frame.to_dict("records") if math.isfinite(r.get("rope", math.nan))), 1.0)
        designs = sorted({d for d in frame.get("design", []) if isinstance(d, str) and d})
        footnotes.append(esc(Footnote(designs, rope).text(reference)))
    return columns, rows, footnotes


def _comparison_cells(record, flavour: Flavour) -> list[str]:
    """Diff [CI], corrected p, Holm p, W/T/L and the three probabilities of one compared row."""
    dash, esc = flavour.dash, flavour.escape
    diff = _num(record["diff"], sign=True)
    low, high = _num(record["diff_ci_low"], sign=True), _num(record["diff_ci_high"], sign=True)
    if diff is None:
        diff_cell = dash
    elif low is None or (record["diff_ci_low"] == record["diff_ci_high"] == record["diff"]):
        diff_cell = esc(diff)
    else:
        diff_cell = esc(f"{diff} [{low}, {high}]")
    n = record["wins"] + record["ties"] + record["losses"] if math.isfinite(record["diff"]) else 0
    wtl = f"{record['wins']:.0f}/{record['ties']:.0f}/{record['losses']:.0f}" if n else dash
    probs = [record[k] for k in PROBABILITIES]
    prob_cell = " / ".join(f"{v:.2f}" for v in probs) if all(math.isfinite(v) for v in probs) else dash
    return [diff_cell, esc(_p(record["p_value"]) or "") or dash, esc(_p(record["p_holm"]) or "") or dash, wtl, prob_cell]


def _section_frame(frame, section: Suite):
    return frame[frame["table"] == section.name]


def caption(section: Suite, header: Header) -> str:
    text = (
        f"{section.title}. Test accuracy after the last epoch, mean ± std over {header.n_splits} splits "
        f"(n = finished splits); Δ = ours − paper in points; Diff, p, Holm, W/T/L and P: this row against {section.reference} "
        "over the paired splits (see the last footnote); "
        "best epoch: mean of the best test accuracy over epochs (optimistic; gain over the last epoch in brackets)."
    )
    if section.costs:
        text += (
            " Params: trainable parameters of the model as trained (this store's dims, this profile); "
            "s/epoch: training wall seconds per epoch, mean over splits (machine-dependent)."
        )
    return text


def markdown(sections: list[Suite], frame, header: Header, incomplete: list[str]) -> str:
    out = [f"# {header.title}", ""]
    for warning in hdr.warnings(header):
        out += [f"> **⚠ WARNING — {warning}**", ""]
    out += [f"- **{label}:** {value}" for label, value in hdr.lines(header)]
    out += [f"- **Note:** {note}" for note in hdr.notes(header, incomplete)]
    for section in sections:
        columns, rows, footnotes = display(section, _section_frame(frame, section), MD)
        out += ["", f"## {section.name}: {section.title}", "", caption(section, header), ""]
        out.append("| " + " | ".join(columns) + " |")
        checks = 3 if section.layout == "methods" else 0
        out.append("|" + "|".join([":---"] + [":---:"] * checks + ["---:"] * (len(columns) - 1 - checks)) + "|")
        out += ["| " + " | ".join(cells) + " |" for cells in rows]
        if footnotes:
            out += [""] + [f"- {f}" for f in footnotes]
    return "\n".join(out) + "\n"


def _tex_unicode(text: str) -> str:
    """The few non-ASCII symbols of captions and footnotes as LaTeX math (pdflatex has no glyphs for them)."""
    for symbol, tex in (("±", r"$\pm$"), ("Δ", r"$\Delta$"), ("−", "$-$"), ("≈", r"$\approx$")):
        text = text.replace(symbol, tex)
    return text


def latex(sections: list[Suite], frame, header: Header, incomplete: list[str]) -> str:
    out = [f"% {line}" for line in hdr.plain(header, incomplete)]
    out += [r"% needs \usepackage{booktabs} and \usepackage{amssymb} (for \checkmark)", ""]
    warning = " ".join(hdr.warnings(header))
    for section in sections:
        columns, rows, footnotes = display(section, _section_frame(frame, section), TEX)
        text = _tex_unicode(_tex_escape(caption(section, header)))
        footnotes = [_tex_unicode(f) for f in footnotes]
        if warning:
            text += r" \textbf{" + _tex_escape(warning) + "}"
        out += [
            r"\begin{table}[t]",
            r"\centering",
            r"\caption{" + text + "}",
            r"\label{tab:" + re.sub(r"[^A-Za-z0-9:.-]+", "-", section.name) + "}",
            r"\begin{tabular}{l" + "c" * (3 if section.layout == "methods" else 0) + "r" * (len(columns) - 1 - (3 if section.layout == "methods" else 0)) + "}",
            r"\toprule",
            " & ".join(columns) + r" \\",
            r"\midrule",
        ]
        out += [" & ".join(cells) + r" \\" for cells in rows]
        out.append(r"\bottomrule")
        out.append(r"\end{tabular}")
        if footnotes:
            out.append(r"\par\smallskip{\footnotesize " + r"\\ ".join(footnotes) + "}")
        out += [r"\end{table}", ""]
    return "\n".join(out)
