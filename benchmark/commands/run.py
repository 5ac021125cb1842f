"""``bench run``: train a suite's rows over the splits and log every run to MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from benchmark.commands.common import DEVICE_HELP, FEATURES_HELP, PLUGIN_HELP, PRECISION_HELP, TRACKING_HELP, load_plugins, user_errors


def run(
    suite: str = typer.Option(..., "--suite", "-s", help="Built-in suite (table1, table2, table3, all; components, fusion, extended) or a path to a suite .toml."),
    features: Optional[Path] = typer.Option(None, "--features", "-f", help=FEATURES_HELP),
    profile: str = typer.Option("quick", "--profile", "-p", help="Training profile: 'paper' (the paper's protocol) or 'quick' (CPU demo)."),
    n_splits: int = typer.Option(10, "--n-splits", help="Number of seeded stratified 2/3 splits (the paper uses 10)."),
    split_files: Optional[Path] = typer.Option(None, "--split-files", help="Folder with trainlistNN.txt / testlistNN.txt / classInd.txt to use instead of random splits."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Override the profile's epochs."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Override the profile's batch size."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Override the profile's learning rate."),
    frames: Optional[int] = typer.Option(None, "--frames", help="Override the profile's frames per video (segment means)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Base seed of model initialisation and data order (default 0)."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP),
    executor: str = typer.Option("auto", "--executor", help="Where jobs run: auto (one single-threaded worker process per core for long CPU runs, else local), local (this process, per-epoch progress), processes (local worker processes) or dask."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", help="Worker processes for --executor processes|dask|auto (default: one per core; Dask's local cluster: 2)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address tcp://HOST:PORT (default: a LocalCluster on 127.0.0.1)."),
    engine: str = typer.Option("auto", "--engine", help="Training loop: auto (vectorised on CUDA, plain on CPU), plain (one split at a time) or vectorised (a configuration's splits together; --executor local)."),
    compile: bool = typer.Option(False, "--compile", help="torch.compile the vectorised engine (pays off on long GPU runs; compiling takes minutes)."),
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    force: bool = typer.Option(False, "--force", help="Train again even where a finished run exists."),
    rope: float = typer.Option(1.0, "--rope", help="Region of practical equivalence of the Bayesian comparison with the reference row, in accuracy points (±ROPE)."),
    report: bool = typer.Option(True, "--report/--no-report", help="Render the report (bench report) into reports/<dataset>/<suite>/ at the end."),
    plugin: list[str] = typer.Option([], "--plugin", help=PLUGIN_HELP),
) -> None:
    """Run a suite: every row over every split, reusing finished runs, then print the table."""
    with user_errors():
        from benchmark.uri_check import check_tracking_uri

        tracking_uri = check_tracking_uri(tracking_uri)  # first: refused credentials in seconds, before torch loads
        from rich.console import Console

        from benchmark.config import get_profile
        from benchmark.console import print_summary
        from benchmark.executors import EXECUTORS, make_executor
        from benchmark.executors.choice import MIN_SAMPLES, choose_executor, largest_mflops_per_frame
        from benchmark.params import DEVICES, check_choice, check_float, resolve_device
        from benchmark.precision import check_precision
        from benchmark.commands.common import store_for
        from benchmark.console import Progress
        from benchmark.runner import run_suite
        from benchmark.splits import file_splits, random_splits
        from benchmark.suite import load_suite
        from features.store import open_store

        check_choice("device", device, DEVICES)
        check_choice("executor", executor, ("auto", *EXECUTORS))
        resolve_device(device)  # --device cuda without a GPU: an input error before anything is logged
        if lr is not None:
            check_float("--lr", lr, low=0.0, open_low=True)
        check_float("--rope", rope, low=0.0)
        check_precision(precision)
        console = Console()
        chosen = get_profile(profile)
        loaded_suite = load_suite(suite)
        plugins = load_plugins(plugin, loaded_suite)
        path = store_for(features)
        store = open_store(path)
        if split_files is not None:
            video_classes = [store.classes[label] for label in store.labels]
            splits = file_splits(split_files, store.ids, store.classes, n_splits, video_classes=video_classes)
        else:
            splits = random_splits(store.labels, store.fingerprint, n_splits, store.classes)
        overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "frames": frames, "seed": seed}
        effective = {**chosen.train, **{k: v for k, v in overrides.items() if v is not None}}
        console.print(
            f"[bold]{loaded_suite.name}[/bold] on {store.name} ({len(store)} videos, {store.path}) · "
            f"profile {chosen.name} ({chosen.description}): {effective.get('epochs')} epochs, "
            f"batch {effective.get('batch_size')}, lr {effective.get('lr')}, T = {effective.get('frames')} · {len(splits)} splits"
        )
        epochs_shown = epochs or int(chosen.train.get("epochs", 0))
        samples = len(loaded_suite.runnable_rows) * sum(len(s.train) for s in splits) * epochs_shown
        mflops = largest_mflops_per_frame(loaded_suite.runnable_rows, store, chosen, overrides) if executor == "auto" and samples >= MIN_SAMPLES else 0.0
        executor, workers, why = choose_executor(executor, device=resolve_device(device), engine=engine, compile=compile, samples=samples,
                                                 mflops_per_frame=mflops)
        if why.startswith("auto") and executor != "local":  # said when it starts workers
            console.print(f"[dim]executor {why}")
        summary = run_suite(
            loaded_suite,
            store,
            chosen,
            splits,
            executor=make_executor(executor, jobs=jobs or workers, scheduler=scheduler, engine=engine, compile=compile),
            train_overrides=overrides,
            uri=tracking_uri,
            device=device,
            force=force,
            progress=Progress(console, epochs=epochs_shown),
            precision=precision,
            plugins=plugins,
            on_notice=lambda line: console.print(f"[yellow]{line}"),
            rope=rope,
        )
        print_summary(summary, console)
        if report:
            from benchmark.report.render import report_after_run

            report_after_run(summary, tracking_uri, console, rope=rope)
        if summary.failed:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
