"""Several datasets in one table (``--features A --features B``): a column group per dataset, like the papers'
tables. Built from each dataset's own ``table.csv`` (:mod:`.csv_table`), so it shows exactly what each
dataset's report says, written to ``reports/<A>+<B>/<suite>/``:

- ``table_long.csv``: one line per (row, dataset, metric) with its ``value``, and the ``test`` that compared
  the row with the reference on that dataset (corrected t-test over splits, or McNemar on one split);
  ``pandas.read_csv(path).pivot(index=["table", "row"], columns=["dataset", "metric"], values="value")``
  gives the wide table back;
- ``table.csv``: that wide table, columns ``<dataset>:<metric>``;
- ``table.md`` and ``index.html``: accuracy ± std, n, paper and p per dataset, with the test each used, and
  links to every dataset's own report (which links the MLflow UI views of its experiment).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

METRICS = ("mean", "std", "n_splits", "paper", "delta", "diff", "p_value", "p_holm")


def long_frame(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """dataset -> its table.csv frame, as one long frame (table, row, dataset, test, metric, value)."""
    records = []
    for dataset, frame in tables.items():
        for record in frame.to_dict("records"):
            test = record.get("test")
            test = test if isinstance(test, str) else ""
            for metric in METRICS:
                value = record.get(metric, math.nan)
                records.append(
                    {
                        "table": record["table"],
                        "row": record["row"],
                        "dataset": dataset,
                        "test": test,
                        "metric": metric,
                        "value": float(value) if value is not None and value == value else math.nan,
                    }
                )
    return pd.DataFrame.from_records(records, columns=["table", "row", "dataset", "test", "metric", "value"])


def wide_frame(long: pd.DataFrame) -> pd.DataFrame:
    """The long frame pivoted: one line per (table, row) in suite order, columns ``<dataset>:<metric>``."""
    order = list(dict.fromkeys(zip(long["table"], long["row"])))
    wide = long.pivot(index=["table", "row"], columns=["dataset", "metric"], values="value")
    wide = wide.reindex(pd.MultiIndex.from_tuples(order, names=["table", "row"]))
    wide.columns = [f"{d}:{m}" for d, m in wide.columns]
    return wide.reset_index()


def _cell(value: float, digits: int = 1) -> str:
    return "—" if not math.isfinite(value) else f"{value:.{digits}f}"


def _p(value: float) -> str:
    return "—" if not math.isfinite(value) else ("<0.001" if value < 0.001 else f"{value:.3f}")


def display(long: pd.DataFrame) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and footnotes: per dataset, accuracy ± std, n, paper and p vs the reference (with its test)."""
    datasets = list(dict.fromkeys(long["dataset"]))
    values = long.set_index(["table", "row", "dataset", "metric"])["value"]
    tests = long.drop_duplicates(["table", "row", "dataset"]).set_index(["table", "row", "dataset"])["test"]
    header = ["Method"] + [f"{d}: {c}" for d in datasets for c in ("Accuracy (%)", "n", "Paper (%)", "p vs ref.")]
    rows = []
    for table, row in dict.fromkeys(zip(long["table"], long["row"])):
        cells = [row]
        for d in datasets:
            get = lambda m, key=(table, row, d): float(values.get((*key, m), math.nan))  # noqa: E731
            mean, std = get("mean"), get("std")
            accuracy = (
                "—" if not math.isfinite(mean) else _cell(mean) + (f" ± {_cell(std)}" if math.isfinite(std) else "")
            )
            n = get("n_splits")
            cells += [accuracy, "—" if not math.isfinite(n) else f"{n:.0f}", _cell(get("paper")), _p(get("p_value"))]
        rows.append(cells)
    notes = []
    for d in datasets:
        used = sorted({t for t in tests.xs(d, level="dataset") if t})
        notes.append(f"{d}: p by {', '.join(used) if used else 'no test (reference row only, or too few splits)'}")
    return header, rows, notes


def markdown(suite_title: str, long: pd.DataFrame) -> str:
    header, rows, notes = display(long)
    out = [
        f"# {suite_title}: {', '.join(dict.fromkeys(long['dataset']))}",
        "",
        "Test accuracy after the last epoch, mean ± std over each dataset's splits (its own protocol); p: the row "
        "against "
        "its table's reference row on that dataset, Holm-adjusted p in table_long.csv (p_holm).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    out += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(out + [""] + [f"- {n}" for n in notes]) + "\n"


def page(suite_title: str, long: pd.DataFrame, links: dict[str, str]) -> str:
    header, rows, notes = display(long)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>" for cells in rows)
    items = "".join(
        f'<li><a href="{html.escape(href)}">{html.escape(d)}: its report (tables, figures, MLflow UI links)</a></li>'
        for d, href in links.items()
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(suite_title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid "
        "#ccc;padding:.3em .6em}"
        "td{text-align:right}td:first-child{text-align:left}</style></head><body>"
        f"<h1>{html.escape(suite_title)}</h1><table><tr>{head}</tr>{body}</table>"
        f"<ul>{''.join(f'<li>{html.escape(n)}</li>' for n in notes)}</ul><h2>Each dataset</h2><ul>{items}</ul>"
        "<p>Files: <a href='table.csv'>table.csv</a>, <a href='table_long.csv'>table_long.csv</a>, <a "
        "href='table.md'>table.md</a></p>"
        "</body></html>"
    )


def write(suite_title: str, folders: dict[str, Path], out: Path) -> pd.DataFrame:
    """dataset -> its report folder; writes the combined outputs into ``out`` and returns the long frame."""
    out.mkdir(parents=True, exist_ok=True)
    long = long_frame({d: pd.read_csv(folder / "table.csv") for d, folder in folders.items()})
    long.to_csv(out / "table_long.csv", index=False)
    wide_frame(long).to_csv(out / "table.csv", index=False)
    (out / "table.md").write_text(markdown(suite_title, long))
    links = {d: _relative(folder / "index.html", out) for d, folder in folders.items()}
    (out / "index.html").write_text(page(suite_title, long, links))
    return long


def _relative(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target.resolve(), start.resolve())


def combined_folder(datasets: Sequence[str], suite: str) -> Path:
    from benchmark.report.render import default_out

    return default_out("+".join(datasets), suite)


def report_datasets(
    suite, summaries: Sequence, uri: str | None, console, *, rope: float, metrics: Sequence[str], keep: bool = True
) -> Path | None:
    """The end of a ``bench run`` over several datasets: each dataset's report (in a temporary folder unless
    ``keep``), then the combined table, printed and (``keep``) written; returns the combined folder."""
    import tempfile

    from benchmark.report.render import render_report

    with tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for index, summary in enumerate(summaries):
            out = None if keep else Path(tmp) / summary.store.name
            folders[summary.store.name] = render_report(
                summary.suite,
                summary.store.name,
                uri,
                out,
                dataset_fingerprint=summary.store.fingerprint,
                parent_run_ids=[r.parent_run_id for r in summary.rows if r.parent_run_id],
                rope=rope,
                metrics=metrics,
                first=index == 0,
            )
        folder = combined_folder(list(folders), suite.name) if keep else Path(tmp) / "combined"
        long = write(suite.title, folders, folder)
        print_table(suite.title, long, console)
    for summary in summaries:
        console.print(
            f"{summary.store.name}: trained {summary.trained} split runs, reused {summary.reused} finished ones"
            + (f", [red]{summary.failed} failed[/red]" if summary.failed else "")
        )
    if keep:
        console.print(f"report: {folder / 'index.html'} (each dataset's own report is linked from it)")
        return folder
    return None


def print_table(title: str, long: pd.DataFrame, console) -> None:
    from rich.table import Table

    header, rows, notes = display(long)
    table = Table(title=title, show_lines=False)
    table.add_column("Method", justify="left")
    datasets = list(dict.fromkeys(column.partition(": ")[0] for column in header[1:]))
    short = {d: d.split("-")[-1] for d in datasets}  # synthetic-ve8 -> ve8, where that stays unambiguous
    if len(set(short.values())) < len(short):
        short = {d: d for d in datasets}
    for column in header[1:]:  # "<dataset>: <what>": the dataset named once, over its group's first column
        dataset, _, what = column.partition(": ")
        what = {"Accuracy (%)": "Acc. %", "Paper (%)": "Paper %", "p vs ref.": "p"}.get(what, what)
        table.add_column(f"{short[dataset]}\n{what}" if what == "Acc. %" else what, justify="right")
    for cells in rows:
        table.add_row(*cells)
    console.print(table)
    for note in notes:
        console.print(note)
