"""``bench evaluate``: evaluate a suite's kept models without retraining (test-time corruptions, cost)."""

from __future__ import annotations

from pathlib import Path

import typer

from benchmark.commands.common import (
    FEATURES_HELP,
    PLUGIN_HELP,
    SERVER_WAIT_HELP,
    TRACKING_HELP,
    load_plugins,
    user_errors,
)


def evaluate(
    suite: str = typer.Option(..., "--suite", "-s", help="The suite whose runs to evaluate (as given to bench run)."),
    features: Path | None = typer.Option(None, "--features", "-f", help=FEATURES_HELP),
    corruption: list[str] = typer.Option(
        [],
        "--corruption",
        "-c",
        help="Only these corruptions (repeatable; default every registered one: clean, missing, noise, frame_drop "
        "and plugins').",
    ),
    executor: str = typer.Option(
        "local", "--executor", help="Where evaluations run: local (this process), processes or dask."
    ),
    jobs: int | None = typer.Option(None, "--jobs", "-j", help="Worker processes for --executor processes|dask."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address tcp://HOST:PORT."),
    cost: bool = typer.Option(
        True,
        "--cost/--no-cost",
        help="Measure each row's cost (MFLOP, inference ms at batch 1 and 64, peak memory) on the clean evaluation.",
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    report: bool = typer.Option(
        True, "--report/--no-report", help="Render the report (with robustness.csv and its figures) at the end."
    ),
    plugin: list[str] = typer.Option(
        [], "--plugin", help=PLUGIN_HELP + " Plugins may register metrics and corruptions too."
    ),
    server_wait: float | None = typer.Option(None, "--server-wait", help=SERVER_WAIT_HELP),
) -> None:
    """Evaluate every kept model of a suite on its test split, clean and under each corruption; nothing is retrained.

    Run `bench run` first. Each (split run, corruption, modality, level) is one MLflow run, reused by the next
    `bench evaluate`; split runs without a kept model, or trained by other model code, are named and skipped."""
    with user_errors():
        import os

        from benchmark.uri_check import check_tracking_uri

        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

        tracking_uri = check_tracking_uri(tracking_uri)
        from benchmark.tracking.retry import set_wait_limit

        set_wait_limit(server_wait)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from benchmark.commands.common import store_for
        from benchmark.evaluation import corruptions as cr
        from benchmark.evaluation.evaluate import run_evaluation_job
        from benchmark.evaluation.suite import plan, run_jobs
        from benchmark.executors import make_executor
        from benchmark.suite import load_suite
        from features.store import open_store

        console = Console()
        loaded = load_suite(suite)
        plugins = load_plugins(plugin, loaded)
        for name in corruption:
            cr.get_corruption(name)
        store = open_store(store_for(features))
        worker = make_executor(executor, jobs=jobs, scheduler=scheduler, fn=run_evaluation_job, on_notice=console.print)
        todo, summary, experiment = plan(
            loaded, store, tracking_uri, corruptions=list(corruption) or None, plugins=tuple(plugins), measure_cost=cost
        )
        for line in summary.notices:
            console.print(f"[yellow]{line}")
        with Progress(
            TextColumn("evaluating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=len(todo))
            try:
                run_jobs(todo, worker, summary, on_done=lambda _: bar.advance(task))
            except BaseException:  # stopped (a signal) or a service gone: no evaluation of ours stays RUNNING
                from benchmark import tracking
                from benchmark.tracking.stops import close_left_running

                close_left_running(tracking.client(tracking_uri, create=False), experiment, "bench evaluate stopped")
                raise
        console.print(
            f"evaluated {summary.evaluated} (split run, corruption) pairs of {summary.split_runs} kept models, "
            f"reused {summary.reused} finished ones"
        )
        for line in summary.failed:
            console.print(f"[red]failed: {line}")
        if report:
            from benchmark.report.render import render_report

            folder = render_report(loaded, store.name, tracking_uri, dataset_fingerprint=store.fingerprint)
            console.print(f"report: {folder}/ (robustness.csv, robustness.md, robustness_*.png, cost)")
        if summary.failed:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
