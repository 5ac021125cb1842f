"""``bench run``: train a suite's rows over the splits and log every run to MLflow."""

from __future__ import annotations

from pathlib import Path

import typer

from benchmark.commands.common import (
    DEVICE_HELP,
    FEATURES_HELP,
    METRICS_HELP,
    PLUGIN_HELP,
    PRECISION_HELP,
    SERVER_WAIT_HELP,
    TRACKING_HELP,
    load_plugins,
    parse_metrics,
    user_errors,
)


def run(
    suite: str = typer.Option(
        ...,
        "--suite",
        "-s",
        help="Built-in suite (table1, table2, table3, all; components, fusion, extended) or a path to a suite .toml.",
    ),
    features: list[Path] = typer.Option(
        [],
        "--features",
        "-f",
        help=FEATURES_HELP + " Repeat it for several datasets: one table with a column group per dataset.",
    ),
    profile: str = typer.Option(
        "quick", "--profile", "-p", help="Training profile: 'paper' (the paper's protocol) or 'quick' (CPU demo)."
    ),
    n_splits: int | None = typer.Option(
        None,
        "--n-splits",
        help="Number of splits (default: the store's protocol; VE-8's is 10 seeded stratified 2/3 splits); with "
        "official lists, the first N.",
    ),
    split_files: Path | None = typer.Option(
        None,
        "--split-files",
        help="Folder with trainlistNN.txt / testlistNN.txt / classInd.txt to use instead of the store's protocol.",
    ),
    epochs: int | None = typer.Option(None, "--epochs", help="Override the profile's epochs."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Override the profile's batch size."),
    lr: float | None = typer.Option(None, "--lr", help="Override the profile's learning rate."),
    frames: int | None = typer.Option(
        None, "--frames", help="Override the profile's frames per video (segment means)."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Base seed of model initialisation and data order (default 0)."
    ),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP),
    executor: str = typer.Option(
        "auto",
        "--executor",
        help="Where jobs run: auto (one single-threaded worker process per core for long CPU runs, else local), "
        "local (this process, per-epoch progress), processes (local worker processes) or dask.",
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        help="Worker processes for --executor processes|dask|auto (default: one per core; Dask's local cluster: 2).",
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address tcp://HOST:PORT (default: a LocalCluster on 127.0.0.1)."
    ),
    engine: str = typer.Option(
        "auto",
        "--engine",
        help="Training loop: auto (vectorised on CUDA, plain on CPU), plain (one split at a time) or vectorised (a "
        "configuration's splits together; --executor local).",
    ),
    compile: bool = typer.Option(
        False,
        "--compile",
        help="torch.compile the vectorised engine (pays off on long GPU runs; compiling takes minutes).",
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    force: bool = typer.Option(False, "--force", help="Train again even where a finished run exists."),
    rope: float = typer.Option(
        1.0,
        "--rope",
        help="Region of practical equivalence of the Bayesian comparison with the reference row, in accuracy points "
        "(±ROPE).",
    ),
    report: bool = typer.Option(
        True,
        "--report/--no-report",
        help="Render the report (bench report) into reports/<dataset>/<suite>/ at the end.",
    ),
    plugin: list[str] = typer.Option([], "--plugin", help=PLUGIN_HELP),
    metrics: str = typer.Option("accuracy", "--metrics", help=METRICS_HELP),
    keep_models: bool = typer.Option(
        True,
        "--keep-models/--no-keep-models",
        help="Keep each new split run's trained weights (for bench evaluate); test scores are kept either way.",
    ),
    kept_dtype: str = typer.Option(
        "float16",
        "--kept-dtype",
        help="Dtype of the kept weights: float16 (half the size; effect measured in docs/guide/evaluation.md) or "
        "float32 "
        "(bit-exact).",
    ),
    server_wait: float | None = typer.Option(None, "--server-wait", help=SERVER_WAIT_HELP),
) -> None:
    """Run a suite: every row over every split, reusing finished runs, then print the table."""
    with user_errors():
        from benchmark.tracking.retry import set_wait_limit
        from benchmark.uri_check import check_tracking_uri

        set_wait_limit(server_wait)
        tracking_uri = check_tracking_uri(tracking_uri)  # first: refused credentials in seconds, before torch loads
        from rich.console import Console

        from benchmark.commands.common import store_for
        from benchmark.config import get_profile
        from benchmark.console import Progress, print_summary
        from benchmark.executors import EXECUTORS, make_executor
        from benchmark.executors.choice import MIN_SAMPLES, choose_executor, largest_mflops_per_frame
        from benchmark.params import DEVICES, check_choice, check_float, resolve_device
        from benchmark.precision import check_precision
        from benchmark.protocol import protocol_splits
        from benchmark.runner import run_suite
        from benchmark.suite import load_suite
        from features.store import open_store

        check_choice("device", device, DEVICES)
        check_choice("executor", executor, ("auto", *EXECUTORS))
        resolve_device(device)  # --device cuda without a GPU: an input error before anything is logged
        if lr is not None:
            check_float("--lr", lr, low=0.0, open_low=True)
        check_float("--rope", rope, low=0.0)
        check_precision(precision)
        from benchmark.checkpoints import DTYPES

        check_choice("--kept-dtype", kept_dtype, DTYPES)
        shown = parse_metrics(metrics)
        console = Console()
        chosen = get_profile(profile)
        loaded_suite = load_suite(suite)
        plugins = load_plugins(plugin, loaded_suite)
        stores = [
            open_store(store_for(f)) for f in (list(features) if features else [None])
        ]  # every store checked before anything trains
        names = [store.name for store in stores]
        if len(set(names)) < len(names):
            from benchmark.params import ParamError

            raise ParamError(f"--features names the same dataset twice ({', '.join(names)})")
        overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "frames": frames, "seed": seed}
        effective = {**chosen.train, **{k: v for k, v in overrides.items() if v is not None}}
        epochs_shown = epochs or int(chosen.train.get("epochs", 0))
        summaries = []
        for index, store in enumerate(stores):
            protocol, splits = protocol_splits(store, n_splits=n_splits, split_files=split_files)
            samples = len(loaded_suite.runnable_rows) * sum(len(s.train) for s in splits) * epochs_shown
            mflops = (
                largest_mflops_per_frame(loaded_suite.runnable_rows, store, chosen, overrides)
                if executor == "auto" and samples >= MIN_SAMPLES
                else 0.0
            )
            kind, workers, why = choose_executor(
                executor,
                device=resolve_device(device),
                engine=engine,
                compile=compile,
                samples=samples,
                mflops_per_frame=mflops,
            )
            console.print(
                f"[bold]{loaded_suite.name}[/bold] on {store.name} ({len(store)} videos, {store.path}) · "
                f"profile {chosen.name} ({chosen.description}): {effective.get('epochs')} epochs, "
                f"batch {effective.get('batch_size')}, lr {effective.get('lr')}, T = {effective.get('frames')} · "
                f"{protocol.describe(len(splits))}"
            )
            if why.startswith("auto") and kind != "local":  # said when it starts workers
                console.print(f"[dim]executor {why}")
            summary = run_suite(
                loaded_suite,
                store,
                chosen,
                splits,
                executor=make_executor(kind, jobs=jobs or workers, scheduler=scheduler, engine=engine, compile=compile),
                train_overrides=overrides,
                uri=tracking_uri,
                device=device,
                force=force,
                progress=Progress(console, epochs=epochs_shown),
                precision=precision,
                plugins=plugins,
                on_notice=lambda line: console.print(f"[yellow]{line}"),
                rope=rope,
                keep_model=kept_dtype if keep_models else "none",
                first=index == 0,
            )
            summaries.append(summary)
            if len(stores) == 1:
                print_summary(summary, console, shown)
                if report:
                    from benchmark.report.render import report_after_run

                    report_after_run(summary, tracking_uri, console, rope=rope, metrics=shown)
        if len(stores) > 1:
            from benchmark.report.datasets import report_datasets

            report_datasets(loaded_suite, summaries, tracking_uri, console, rope=rope, metrics=shown, keep=report)
        if any(summary.failed for summary in summaries):
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
