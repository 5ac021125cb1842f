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
from collections.abc import Callable
from dataclasses import dataclass

from benchmark.report import header as hdr
from benchmark.report.collect import Header
from benchmark.report.columns import Cell, columns_for
from benchmark.report.nested_row import footnote_of
from benchmark.report.stats import nominal_sizes_note
from benchmark.statistics.significance import Footnote
from benchmark.suite import Suite

CSV_COLUMNS = [
    "table",
    "row",
    "mean",
    "std",
    "n_splits",
    "n_expected",
    "paper",
    "delta",
    "p_value",
    "n_paired",
    "best_epoch_mean",
    "best_epoch_gain",
    "status",
    "note",
    "ceiling",
    "n_parameters",
    "seconds_per_epoch",
    "p_naive",
    "p_holm",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "wins",
    "ties",
    "losses",
    "prob_reference_better",
    "prob_equivalent",
    "prob_row_better",
    "rope",
    "test",
    "sizes_from",
]
PERCENT = [
    "mean",
    "std",
    "paper",
    "delta",
    "best_epoch_mean",
    "best_epoch_gain",
    "ceiling",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
]
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


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "_": r"\_",
    "#": r"\#",
    "$": r"\$",
    "{": r"\{",
    "}": r"\}",
    "<": r"$<$",
    ">": r"$>$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _tex_escape(text: str) -> str:
    """LaTeX special characters escaped in one pass (so replacements are never escaped again)."""
    return re.sub(r"[\\&%_#${}<>~^]", lambda m: _TEX_SPECIAL[m.group()], text)


MD = Flavour(" ± ", "✓", "–", "†", "—", lambda s: s.replace("|", r"\|"))
TEX = Flavour(r" $\pm$ ", r"\checkmark", "--", r"$^\dagger$", "--", _tex_escape)
HTML = Flavour(" ± ", "✓", "–", "†", "—", _html.escape)


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


def display(
    section: Suite, frame, flavour: Flavour, metrics: list[str] | None = None
) -> tuple[list[str], list[list[str]], list[str]]:
    """Column names, cell strings and footnotes of one paper table (columns: :mod:`benchmark.report.columns`;
    ``metrics``: registered metrics other than accuracy to show, each as one more column)."""
    esc, dash = flavour.escape, flavour.dash
    reference = section.reference
    first = "Method"
    if section.layout == "sweep" and section.sweep:
        md_symbol, tex_symbol = SWEEP_SYMBOLS.get(section.sweep, (section.sweep, section.sweep))
        first = tex_symbol if flavour is TEX else esc(md_symbol)
    spec = columns_for(section, frame, flavour, [m for m in (metrics or []) if m != "accuracy"], tex=flavour is TEX)
    rows, footnotes = [], []
    if "ceiling" in frame and bool(frame["ceiling"].notna().any()):
        footnotes.append(
            esc(
                "Best reachable: accuracy of the Bayes rule that knows the synthetic generator, given the row's "
                "modalities (Monte Carlo on fresh videos); no model beats it on average."
            )
        )
    by_name = {row.name: row for row in section.rows}
    for record in frame.to_dict("records"):
        row = by_name[record["row"]]
        name = esc(record["row"])
        if section.layout == "sweep" and section.sweep and section.sweep in row.params:
            name = esc(str(row.params[section.sweep]))
        cell = Cell(record, row, flavour, status(record))
        if cell.state == "reported":
            rows.append([name] + [(c.reported(cell) if c.reported else dash) for c in spec])
            if row.source:
                footnotes.append(esc(f"{row.name}: {row.source}"))
            continue
        rows.append([name] + [c.cell(cell) for c in spec])
        if cell.state != "complete":
            footnotes.append(flavour.dagger + " " + esc(f"{row.name}: {record['missing']}"))
        if record["test_note"] and record["test_note"] != "reference":
            footnotes.append(esc(f"{row.name}: no p-value, {record['test_note']}"))
        if nominal_sizes_note(record):
            footnotes.append(esc(f"{row.name}: {nominal_sizes_note(record)}"))
        if footnote_of(record):  # the nested row's chosen values and selection bias
            footnotes.append(esc(f"{row.name}: {footnote_of(record)}"))
    if reference:
        rope = next((r["rope"] for r in frame.to_dict("records") if math.isfinite(r.get("rope", math.nan))), 1.0)
        designs = sorted({d for d in frame.get("design", []) if isinstance(d, str) and d})
        footnotes.append(esc(Footnote(designs, rope).text(reference)))
    return [first] + [c.header for c in spec], rows, footnotes


def alignments(section: Suite, frame, metrics: list[str] | None = None) -> list[str]:
    """``l`` for the name, then each column's alignment (``c`` for check marks, ``r`` for numbers)."""
    return ["l"] + [
        c.align for c in columns_for(section, frame, MD, [m for m in (metrics or []) if m != "accuracy"], tex=False)
    ]


def _section_frame(frame, section: Suite):
    return frame[frame["table"] == section.name]


def caption(section: Suite, header: Header) -> str:
    text = (
        f"{section.title}. Test accuracy after the last epoch, mean ± std over {header.n_splits} splits "
        "(n = finished splits); Δ = ours − paper in points; Diff, p, Holm, W/T/L and P: this row against "
        f"{section.reference} "
        "over the paired splits (see the last footnote); "
        "best epoch: mean of the best test accuracy over epochs (optimistic; gain over the last epoch in brackets)."
    )
    if section.costs:
        text += (
            " Params: trainable parameters of the model as trained (this store's dims, this profile); "
            "s/epoch: training wall seconds per epoch, mean over splits (machine-dependent)."
        )
    return text


def markdown(
    sections: list[Suite], frame, header: Header, incomplete: list[str], metrics: list[str] | None = None
) -> str:
    out = [f"# {header.title}", ""]
    for warning in hdr.warnings(header):
        out += [f"> **⚠ WARNING — {warning}**", ""]
    out += [f"- **{label}:** {value}" for label, value in hdr.lines(header)]
    out += [f"- **Note:** {note}" for note in hdr.notes(header, incomplete)]
    for section in sections:
        part = _section_frame(frame, section)
        columns, rows, footnotes = display(section, part, MD, metrics)
        out += ["", f"## {section.name}: {section.title}", "", caption(section, header), ""]
        out.append("| " + " | ".join(columns) + " |")
        out.append(
            "|"
            + "|".join({"l": ":---", "c": ":---:", "r": "---:"}[a] for a in alignments(section, part, metrics))
            + "|"
        )
        out += ["| " + " | ".join(cells) + " |" for cells in rows]
        if footnotes:
            out += [""] + [f"- {f}" for f in footnotes]
    return "\n".join(out) + "\n"


def _tex_unicode(text: str) -> str:
    """The few non-ASCII symbols of captions and footnotes as LaTeX math (pdflatex has no glyphs for them)."""
    for symbol, tex in (("±", r"$\pm$"), ("Δ", r"$\Delta$"), ("−", "$-$"), ("≈", r"$\approx$")):
        text = text.replace(symbol, tex)
    return text


def latex(sections: list[Suite], frame, header: Header, incomplete: list[str], metrics: list[str] | None = None) -> str:
    out = [f"% {line}" for line in hdr.plain(header, incomplete)]
    out += [r"% needs \usepackage{booktabs} and \usepackage{amssymb} (for \checkmark)", ""]
    warning = " ".join(hdr.warnings(header))
    for section in sections:
        part = _section_frame(frame, section)
        columns, rows, footnotes = display(section, part, TEX, metrics)
        text = _tex_unicode(_tex_escape(caption(section, header)))
        footnotes = [_tex_unicode(f) for f in footnotes]
        if warning:
            text += r" \textbf{" + _tex_escape(warning) + "}"
        out += [
            r"\begin{table}[t]",
            r"\centering",
            r"\caption{" + text + "}",
            r"\label{tab:" + re.sub(r"[^A-Za-z0-9:.-]+", "-", section.name) + "}",
            r"\begin{tabular}{" + "".join(alignments(section, part, metrics)) + "}",
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
