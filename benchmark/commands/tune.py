"""``bench tune``: search hyperparameters with Optuna on validation parts of the training splits."""

from __future__ import annotations

from pathlib import Path

import typer

from benchmark.commands.common import (
    DEVICE_HELP,
    FEATURES_HELP,
    PLUGIN_HELP,
    PRECISION_HELP,
    SERVER_WAIT_HELP,
    TRACKING_HELP,
    load_plugins,
    user_errors,
)


def tune(
    param: list[str] = typer.Option(
        ...,
        "--param",
        help="Parameter to search (repeatable). For proposed: alpha, dropout, groups, expansion, heads; for every "
        "model: lr, batch_size; other models declare theirs (search_space).",
    ),
    model: str = typer.Option(
        "proposed",
        "--model",
        "-m",
        help="The model to tune: any registered model, plugins included (bench models lists them).",
    ),
    plugin: list[str] = typer.Option([], "--plugin", help=PLUGIN_HELP),
    values: list[str] = typer.Option(
        [], "--values", help="Override a space: 2,4,8 (a list) or 1e-4:1e-2 (a range); NAME=... with several --param."
    ),
    trials: int | None = typer.Option(
        None, "--trials", help="The study's total number of trials (default: the grid's size; 20 for TPE)."
    ),
    n_splits: int | None = typer.Option(
        None,
        "--n-splits",
        help="Validation parts tuned on, each 1/5 of a protocol split's training part (default 3; with one official "
        "split, all carved from its training list); with --nested the outer splits (default: the store's "
        "protocol).",
    ),
    features: Path | None = typer.Option(None, "--features", "-f", help=FEATURES_HELP),
    split_files: Path | None = typer.Option(
        None,
        "--split-files",
        help="Folder with trainlistNN.txt / testlistNN.txt to use instead of the store's protocol (tuning carves "
        "validation parts from their training lists only).",
    ),
    storage: str | None = typer.Option(
        None,
        "--storage",
        help="Optuna storage URL (default sqlite:///mlruns/optuna.db; postgresql://... for many machines).",
    ),
    study_name: str | None = typer.Option(
        None, "--study-name", help="Study to create or join (default: from the parameters, profile and settings)."
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    profile: str = typer.Option("quick", "--profile", "-p", help="Training profile: 'paper' or 'quick' (CPU demo)."),
    epochs: int | None = typer.Option(None, "--epochs", help="Override the profile's epochs."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Override the profile's batch size (unless searched)."
    ),
    lr: float | None = typer.Option(None, "--lr", help="Override the profile's learning rate (unless searched)."),
    frames: int | None = typer.Option(None, "--frames", help="Override the profile's frames per video."),
    seed: int = typer.Option(0, "--seed", help="Seed of the TPE sampler and of model initialisation."),
    sampler: str = typer.Option(
        "auto", "--sampler", help="auto (grid for one listed parameter, else TPE), grid or tpe."
    ),
    prune: bool = typer.Option(
        True, "--prune/--no-prune", help="Stop unpromising trials early (Optuna's median pruner)."
    ),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option(
        "auto", "--precision", help=PRECISION_HELP + " Resolved once per study: every trial shares it."
    ),
    evaluate: bool = typer.Option(
        False,
        "--evaluate",
        help="Then run the best setting under the full test protocol (bench run) beside the paper's Table 3.",
    ),
    eval_splits: int | None = typer.Option(
        None, "--eval-splits", help="Splits for --evaluate (default: the store's protocol, e.g. VE-8's 10)."
    ),
    nested: bool = typer.Option(
        False,
        "--nested",
        help="Nested evaluation: per outer split, search on its training part only, retrain the choice, score its "
        "test part once.",
    ),
    inner_splits: int | None = typer.Option(
        None, "--inner-splits", help="With --nested: fit/validation divisions of each outer training part (default 3)."
    ),
    executor: str = typer.Option(
        "local", "--executor", help="With --nested: where outer splits run: local, processes or dask."
    ),
    jobs: int | None = typer.Option(
        None, "--jobs", "-j", help="With --nested: worker processes for --executor processes|dask."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="With --nested: Dask scheduler address tcp://HOST:PORT (default: a LocalCluster)."
    ),
    server_wait: float | None = typer.Option(None, "--server-wait", help=SERVER_WAIT_HELP),
) -> None:
    """Search hyperparameters on validation parts of the training splits (the test parts are never read)."""
    with user_errors():
        from rich.console import Console

        from benchmark.commands.common import store_for
        from benchmark.config import get_profile
        from benchmark.params import ParamError, check_choice, check_int, resolve_device
        from benchmark.precision import check_precision
        from benchmark.tracking.retry import set_wait_limit
        from benchmark.tuning.outputs import pct, write_report
        from benchmark.tuning.search import run_search
        from benchmark.tuning.space import build_space
        from benchmark.uri_check import check_tracking_uri
        from features.store import open_store

        set_wait_limit(server_wait)
        device = resolve_device(device)
        tracking_uri = check_tracking_uri(tracking_uri)
        check_precision(precision)
        check_choice("sampler", sampler, ["auto", "grid", "tpe"])
        if not nested:
            unused = [
                name
                for name, value in (("--inner-splits", inner_splits), ("--jobs", jobs), ("--scheduler", scheduler))
                if value is not None
            ]
            if executor != "local":
                unused.append("--executor")
            if unused:
                raise ParamError(
                    f"{unused[0]} is only used with --nested (several `bench tune` processes share a study instead)"
                )
        elif evaluate:
            raise ParamError(
                "--evaluate and --nested exclude each other: --nested scores every outer split's choice on its test "
                "part itself"
            )
        elif precision != "auto":
            raise ParamError(
                "--precision is not passed to --nested yet: a nested evaluation trains at what auto picks "
                "(docs/guide/performance.md)"
            )
        if n_splits is not None:
            check_int("n_splits", n_splits, low=1)
        if eval_splits is not None:
            check_int("eval_splits", eval_splits, low=1)
        console = Console()
        plugins = load_plugins(plugin)
        space = build_space(param, values, model)
        chosen = get_profile(profile)
        store = open_store(store_for(features))
        from benchmark.protocol import resolve_protocol

        protocol = resolve_protocol(store, split_files=split_files)
        overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "frames": frames, "seed": seed}
        if nested:
            from benchmark import tracking
            from benchmark.tuning.nested import run_nested
            from benchmark.tuning.nested_output import print_nested
            from benchmark.tuning.nested_spec import DEFAULT_INNER_SPLITS, NestedSpec
            from benchmark.tuning.study import storage_url

            spec = NestedSpec(
                store_path=str(store.path),
                profile=chosen,
                space=space,
                inner_splits=inner_splits or DEFAULT_INNER_SPLITS,
                train_overrides=overrides,
                storage=storage_url(storage),
                tracking_uri=tracking.tracking_uri(tracking_uri),
                device=device,
                trials=trials,
                sampler=sampler,
                prune=prune,
                seed=seed,
                study_name=study_name,
                model=model,
                plugins=plugins,
                protocol=protocol,
            )
            summary = run_nested(spec, n_splits, executor=executor, jobs=jobs, scheduler=scheduler, echo=console.print)
            print_nested(summary, store, chosen.name, console)
            if summary.failures or len(summary.accuracies) < summary.n_splits:
                raise typer.Exit(1)
            return
        n_splits = n_splits or 3
        result = run_search(
            store=store,
            profile=chosen,
            space=space,
            n_splits=n_splits,
            train_overrides=overrides,
            device=device,
            storage=storage,
            study_name=study_name,
            tracking_uri=tracking_uri,
            trials=trials,
            sampler=sampler,
            prune=prune,
            seed=seed,
            echo=console.print,
            precision=precision,
            model=model,
            protocol=protocol,
        )
        book = result.book
        carved = (
            "each split's training part"
            if protocol.kind == "random"
            else f"the training list(s) of the protocol's official split(s) ({protocol.describe()})"
        )
        notes = [
            f"Dataset {store.name} ({store.fingerprint[:12]}), profile {chosen.name}, precision {result.precision}, "
            f"{n_splits} tuning splits; "
            f"validation = a stratified 1/5 of {carved}; test parts never read.",
        ]
        if store.synthetic:
            notes.append("Synthetic data: these numbers say nothing about real videos.")
        report = write_report(result.study, book, space, store.name, f"Study {result.study_name}", notes)
        states = [t.state.name for t in book.done]
        console.print(
            f"ran {result.ran} trials in this process; study: {states.count('COMPLETE')} complete, "
            f"{states.count('PRUNED')} pruned, "
            f"{states.count('FAIL')} failed, {len(book.active)} running elsewhere"
            + ("" if result.finished else " (not finished: run again, or wait for the other processes)")
        )
        if report.best is None:
            console.print("[yellow]no complete trial yet: no best setting")
            raise typer.Exit(1)
        best = report.best
        setting = ", ".join(f"{k}={v}" for k, v in best["params"].items())
        console.print(
            f"[bold]best {setting}[/bold]: validation accuracy {pct(best['val_acc_mean'])} ± "
            f"{pct(best['val_acc_std'])} % "
            f"(trial {best['trial']}, {len(best['val_acc_splits'] or [])} splits)"
        )
        console.print(f"table, plot and best setting: {report.directory}; MLflow parent run {result.parent_run_id}")
        if evaluate:
            from benchmark.tuning.evaluate import evaluate_best

            evaluate_best(
                study_name=result.study_name,
                space=space,
                best=best["params"],
                store=store,
                profile=chosen,
                n_splits=eval_splits,
                train_overrides=overrides,
                tracking_uri=tracking_uri,
                device=device,
                console=console,
                precision=result.precision,
                model=model,
                plugins=plugins,
                protocol=protocol,
            )


def register(app: typer.Typer) -> None:
    app.command("tune")(tune)
