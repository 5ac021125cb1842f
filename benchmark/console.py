"""What ``bench run`` shows in the terminal: progress bars while it trains, then the tables (ours, mean ±
std over splits and n, beside the paper; then each row against its table's reference row)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.progress import TaskID
from rich.table import Table

from benchmark.jobs import JobOutcome, SplitJob
from benchmark.runner import RunSummary
from benchmark.tracking import claims
from benchmark.tracking.tags import TAG


def pct(value: float, digits: int = 1) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.{digits}f}"


def summary_table(summary: RunSummary, metrics: Sequence[str] = ()) -> Table:
    """The run's table; ``metrics``: registered metrics besides accuracy to show (``--metrics``), mean ± std over
    splits."""
    from baselines import get_model
    from benchmark.kept import mlflow_name
    from benchmark.metrics import get_metric
    from benchmark.statistics.rows import summarize

    extra = [get_metric(m) for m in metrics if m != "accuracy"]

    store = summary.store
    precisions = (
        ", ".join(sorted({r.precision for r in summary.rows if get_model(r.row.trained_model).kind == "torch"}))
        or "fp32"
    )
    title = (
        f"{summary.suite.title}\n{store.name} ({store.fingerprint[:12]}), profile {summary.profile}, precision "
        f"{precisions}"
    )
    table = Table(title=title, title_justify="left")
    ceilings = any(r.ceiling for r in summary.rows)
    for column, justify in (
        ("Row", "left"),
        ("Accuracy %", "right"),
        ("n", "right"),
        ("Paper %", "right"),
        ("Δ", "right"),
        ("best-epoch % (optimistic)", "right"),
    ):
        table.add_column(column, justify="left" if justify == "left" else "right")
    for metric in extra:
        table.add_column(metric.header.replace(" (%)", " %"), justify="right")
    if ceilings:
        table.add_column("best reachable %", justify="right")
    measured = {(r.row.table, r.row.name): r for r in summary.rows}
    for row in summary.suite.rows:
        paper = "—" if row.paper is None else f"{row.paper:.1f}"
        if row.reported:
            table.add_row(
                row.name,
                "[dim]reported only[/dim]",
                "",
                paper,
                "",
                "",
                *([""] * len(extra)),
                *([""] if ceilings else []),
            )
            continue
        result = measured[(row.table, row.name)]
        acc = f"{pct(result.mean)} ± {pct(result.std)}" if result.n else "no finished split"
        n = f"{result.n}" if result.n == result.n_expected else f"[red]{result.n}/{result.n_expected}[/red]"
        delta = "" if row.paper is None or not result.n else f"{100 * result.mean - row.paper:+.1f}"
        best = pct(sum(result.best_epoch) / len(result.best_epoch)) if result.best_epoch else "—"
        cells = []
        for metric in extra:
            value = summarize(result.metrics.get(mlflow_name(metric.name), []), metric.scale())
            cells.append(
                "—"
                if not value.n
                else f"{value.mean:.{1 if metric.unit == '%' else 3}f}"
                + (f" ± {value.std:.{1 if metric.unit == '%' else 3}f}" if value.n > 1 else "")
            )
        table.add_row(
            row.name, acc, n, paper, delta, best, *cells, *([ceiling_cell(result.ceiling)] if ceilings else [])
        )
    return table


def comparison_table(summary: RunSummary) -> Table | None:
    """Each row against its table's reference (:mod:`benchmark.statistics.significance`): the difference with
    its corrected interval, corrected and Holm p, wins / ties / losses and the Bayesian probabilities."""
    if not summary.comparisons:
        return None
    parts = summary.suite.parts or (summary.suite,)
    references = {(part.name, part.reference) for part in parts if part.reference}
    names = ", ".join(sorted({part.reference for part in parts if part.reference}))
    table = Table(title=f"Against the reference row ({names}), paired over the splits", title_justify="left")
    for column in ("Row", "Diff vs ref [95% CI]", "p", "p Holm", "W/T/L", "P(ref/≈/row)"):
        table.add_column(column, justify="left" if column == "Row" else "right", no_wrap=column != "Row")
    for row in summary.suite.rows:
        if row.reported:
            continue
        if (row.table, row.name) in references:
            table.add_row(row.name, "ref.", "ref.", "", "", "")
            continue
        table.add_row(row.name, *comparison_cells(summary.comparisons.get((row.table, row.name))))
    return table


def _p(value: float) -> str:
    return "—" if not math.isfinite(value) else ("<0.001" if value < 0.001 else f"{value:.3f}")


def comparison_cells(c) -> list[str]:
    """Diff [CI], corrected p, Holm p, W/T/L, P(ref better / equivalent / row better) of one row."""
    if c is None or not math.isfinite(c.diff):
        return ["—"] * 5
    diff = f"{c.diff:+.1f}" + (
        f" [{c.diff_ci_low:+.1f}, {c.diff_ci_high:+.1f}]"
        if math.isfinite(c.diff_ci_low) and c.diff_ci_low != c.diff_ci_high
        else ""
    )
    probs = (c.prob_reference_better, c.prob_equivalent, c.prob_row_better)
    prob = "/".join(f"{v:.2f}" for v in probs) if all(math.isfinite(v) for v in probs) else "—"
    return [diff, _p(c.p_value), _p(c.p_holm), f"{c.wins}/{c.ties}/{c.losses}", prob]


def ceiling_cell(ceiling: dict[str, float] | None) -> str:
    """``94.9 ± 0.05``: the store's Bayes ceiling for the row's modalities and its Monte Carlo standard error."""
    return "—" if not ceiling else f"{pct(ceiling['accuracy'])} ± {pct(ceiling['se'], 2)}"


def print_summary(summary: RunSummary, console: Console | None = None, metrics: Sequence[str] = ()) -> None:
    console = console or Console()
    console.print(summary_table(summary, metrics))
    comparisons = comparison_table(summary)
    if comparisons is not None:
        rope = next(iter(summary.comparisons.values())).rope
        console.print(comparisons)
        console.print(
            f"Diff: row − reference in points with the corrected 95 % interval; p: corrected resampled t-test "
            f"(Nadeau & Bengio), Holm across each table's rows; P: Bayesian correlated t-test, ROPE ±{rope:g} points. "
            "The plain paired t-test's p (too small on overlapping splits) is in the report's table.csv (p_naive)."
        )
    console.print(
        f"trained {summary.trained} split runs, reused {summary.reused} finished ones"
        + (f", [red]{summary.failed} failed[/red]" if summary.failed else "")
    )
    for result in summary.rows:
        for failure in result.failures:
            console.print(f"[red]{result.row.name}: {failure}")
    if summary.store.synthetic:
        console.print("[bold yellow]Synthetic data: these numbers say nothing about real videos.")
    if any(r.ceiling for r in summary.rows):
        console.print(
            "best reachable: accuracy of the Bayes rule that knows the generator, given the row's modalities "
            "(Monte Carlo ± standard error); no model can beat it on average (docs/guide/feature-store.md, 'The "
            "synthetic store')."
        )
    if summary.store.random_extractors:
        console.print(
            f"[bold yellow]Randomly initialised extractors ({', '.join(summary.store.random_extractors)}): features "
            "carry no meaning."
        )
    if summary.profile != "paper":
        console.print(f"[yellow]Profile '{summary.profile}' is not the paper's protocol; use --profile paper for that.")


class Progress:
    """Rich progress bars over jobs and, for in-process runs, over the current job's epochs."""

    def __init__(self, console=None, epochs: int = 0):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        self.bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.epochs = epochs
        self.jobs_task: TaskID | None = None
        self.epoch_task: TaskID | None = None
        self.current: str | None = None

    def start(self, n_jobs: int, n_reused: int) -> None:
        self.bar.start()
        self.jobs_task = self.bar.add_task(f"jobs ({n_reused} reused)", total=n_jobs)
        if self.epochs:
            self.epoch_task = self.bar.add_task("epochs", total=self.epochs, visible=False)

    def epoch(self, job: SplitJob, record) -> None:
        if self.epoch_task is None:
            return
        if self.current != job.run_name:
            self.current = job.run_name
            self.bar.reset(self.epoch_task, total=job.config.train.epochs, visible=True, description=job.run_name)
        self.bar.update(
            self.epoch_task, completed=record.epoch, description=f"{job.run_name} acc {record.test_acc:.3f}"
        )

    def job_done(self, outcome: JobOutcome) -> None:
        if self.jobs_task is not None:
            self.bar.advance(self.jobs_task)
        if outcome.status not in ("FINISHED", claims.CLAIMED):
            self.bar.console.print(f"[yellow]{outcome.row} / split {outcome.split} FAILED: {outcome.reason}")

    def waiting(self, holders: list) -> None:
        """Splits other processes train: say which, and by whom, while this one waits for them."""
        who = sorted({f"{r.data.tags.get(f'{TAG}host', '?')}:{r.data.tags.get(f'{TAG}pid', '?')}" for r in holders})
        names = ", ".join(sorted(r.info.run_name for r in holders)[:4]) + (" ..." if len(holders) > 4 else "")
        self.bar.console.print(f"waiting for {len(holders)} splits other processes train ({', '.join(who)}): {names}")

    def taking_over(self, n: int) -> None:
        self.bar.console.print(f"[yellow]taking over {n} splits whose process ended without finishing them")
        total = next((t.total for t in self.bar.tasks if t.id == self.jobs_task), None)
        if self.jobs_task is not None and total is not None:
            self.bar.update(self.jobs_task, total=total + n)

    def stop(self) -> None:
        self.bar.stop()
