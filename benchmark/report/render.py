"""Render a suite's report from MLflow into ``reports/<dataset>/<suite>/`` (or ``out``).

Writes ``table.md``, ``table.tex``, ``table.csv``, the figures (PNG) and ``index.html``.
``bench report`` and the end of ``bench run`` both call :func:`render_report`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from benchmark.report import csv_table, figure_set, nested_row, tables  # noqa: F401  (figure_set: importing it registers the report's figures)
from benchmark.report.collect import Collected, collect
from benchmark.report.figure_registry import FIGURES, FigureInput
from benchmark.report.stats import row_stats
from benchmark.statistics.significance import DEFAULT_ROPE
from benchmark.suite import Suite, load_suite, sections

if TYPE_CHECKING:
    from mlflow.entities import Experiment


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def default_out(dataset: str, suite: str) -> Path:
    return Path("reports") / _safe(dataset) / _safe(suite)


def statistics(collected: Collected, rope: float = DEFAULT_ROPE):
    """Every row's statistics, section by section (each against its own reference row; Holm within a section)."""
    import pandas as pd

    frames = [row_stats(collected.rows_of(part.name), part.reference, rope) for part in sections(collected.suite)]
    return pd.concat(frames, ignore_index=True)


def render_report(
    suite: str | Suite,
    experiment: str,
    uri: str | None = None,
    out: str | Path | None = None,
    *,
    dataset_fingerprint: str | None = None,
    parent_run_ids: Sequence[str] | None = None,
    rope: float = DEFAULT_ROPE,
    metrics: Sequence[str] = ("accuracy",),
    first: bool = True,
) -> Path:
    """Read the suite's runs from MLflow and write every output; returns the folder.

    ``experiment`` is the dataset's experiment (the store's name). ``parent_run_ids`` pins the exact
    parent runs (the end of ``bench run`` passes its own); otherwise the latest consistent ones are
    used. ``rope``: the Bayesian test's region of practical equivalence, in accuracy points; ``metrics``: the
    registered metrics the md/LaTeX/HTML tables show (table.csv has every one); ``first``: the dataset is its
    command's first (a suite row's plain paper number is that dataset's). Raises
    ``ParamError`` with a clear message when there are no runs yet.
    """
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    loaded = (load_suite(suite) if isinstance(suite, str) else suite).for_dataset(experiment, first)
    collected = collect(loaded, experiment, uri, dataset_fingerprint=dataset_fingerprint, parent_run_ids=parent_run_ids)
    collected = nested_row.attach(collected, uri)  # a sweep's "chosen on validation (nested)" row, if MLflow has one
    loaded = collected.suite
    folder = Path(out) if out is not None else default_out(experiment, loaded.name)
    folder.mkdir(parents=True, exist_ok=True)
    frame = nested_row.annotate(statistics(collected, rope), collected)
    from benchmark import tracking
    from benchmark.report import metric_columns, robustness

    client = tracking.client(uri)
    values = metric_columns.split_metrics(client, collected)  # every registered metric from the kept scores
    frame = metric_columns.add_columns(frame, collected, values, rope)
    try:  # a copy for the MLflow UI: a READ-only user or a read-only store still gets the report
        metric_columns.write_back(client, collected, values, frame)
    except Exception:
        pass
    experiment_id = cast("Experiment", client.get_experiment_by_name(experiment)).experiment_id  # collect found it
    frame, evaluated = robustness.write(client, collected, experiment_id, frame, folder)
    header = collected.header
    header.rope = rope
    incomplete = [
        f"{r['row']} ({r['n_splits']}/{r['n_expected']})"
        for r in frame.to_dict("records")
        if tables.status(r) not in ("complete", "reported")
    ]
    parts = sections(loaded)
    shown = list(metrics)
    (folder / "table.md").write_text(tables.markdown(parts, frame, header, incomplete, shown))
    (folder / "table.tex").write_text(tables.latex(parts, frame, header, incomplete, shown))
    csv_table.write_csv(folder / "table.csv", frame, header, incomplete)

    written: list[tuple[Path, str]] = []
    multi = len(parts) > 1
    chance = 100.0 / len(collected.classes) if collected.classes else None
    for part in parts:
        prefix = f"{part.name}_" if multi else ""
        inputs = FigureInput(
            part,
            frame[frame["table"] == part.name],
            collected.rows_of(part.name),
            collected.predictions.get(part.name),
            collected.classes,
            header,
            chance,
            rope,
        )
        for figure in FIGURES:
            if not figure.applies(part):
                continue
            path = figure.draw(inputs, folder / f"{prefix}{figure.name(part)}.png")
            if path:
                written.append((path, figure.caption(part, inputs)))

    written += [
        (path, "Test-time robustness and cost (bench evaluate): " + path.stem.replace("_", " ")) for path in evaluated
    ]
    from benchmark.report.html import page

    extra = [name for name in ("robustness.csv", "robustness.md") if (folder / name).is_file()]
    files = ["table.md", "table.tex", "table.csv", csv_table.META_NAME, *extra] + [
        q.name for p, _ in written for q in (p, p.with_suffix(".pdf")) if q.is_file()
    ]
    (folder / "index.html").write_text(page(parts, frame, header, incomplete, written, files, shown))
    return folder


def report_command(summary, uri: str | None, out: Path | None = None) -> str:
    """The ``bench report`` command that renders this run's report, as the user can paste it: the same
    store and tracking URI as the run (and another output folder where the default one failed)."""
    import shlex

    parts = ["bench", "report", "--suite", summary.suite.name, "--features", str(summary.store.path)]
    if uri:
        from benchmark.uri_check import shown

        parts += ["--tracking-uri", shown(uri)]
    if out is not None:
        parts += ["--out", str(out)]
    return shlex.join(parts)


def report_after_run(
    summary, uri: str | None, console, rope: float = DEFAULT_ROPE, metrics: Sequence[str] = ("accuracy",)
) -> Path | None:
    """The end of ``bench run``: render from MLflow the parents this run just closed.

    A report that cannot be written never turns a finished run into a failed command: it says why
    and how to try again.
    """
    try:
        folder = render_report(
            summary.suite,
            summary.store.name,
            uri,
            dataset_fingerprint=summary.store.fingerprint,
            parent_run_ids=[r.parent_run_id for r in summary.rows if r.parent_run_id],
            rope=rope,
            metrics=metrics,
        )
    except Exception as exc:
        import tempfile

        out = Path(tempfile.gettempdir()) / f"bench-report-{summary.suite.name}" if isinstance(exc, OSError) else None
        console.print(
            f"[yellow]report not written ({type(exc).__name__}: {exc}); try `{report_command(summary, uri, out)}`",
            soft_wrap=True,
        )
        return None
    console.print(f"report: {folder / 'index.html'}")
    try:  # the rendered files as artifacts of the parent runs that produced them
        from benchmark import tracking
        from benchmark.tracking.report_artifacts import log_report

        log_report(tracking.client(uri), [r.parent_run_id for r in summary.rows if r.parent_run_id], folder)
    except Exception as exc:
        console.print(f"[yellow]report not attached to the parent runs ({type(exc).__name__}: {exc})")
    return folder
