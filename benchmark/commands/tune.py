"""``bench tune``: search hyperparameters with Optuna on validation parts of the training splits."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from benchmark.commands.common import DEVICE_HELP, FEATURES_HELP, PRECISION_HELP, TRACKING_HELP, user_errors


def tune(
    param: List[str] = typer.Option(..., "--param", help="Parameter to search (repeatable): alpha, lr, dropout, groups, expansion, heads, batch_size."),
    values: List[str] = typer.Option([], "--values", help="Override a space: 2,4,8 (a list) or 1e-4:1e-2 (a range); NAME=... with several --param."),
    trials: Optional[int] = typer.Option(None, "--trials", help="The study's total number of trials (default: the grid's size; 20 for TPE)."),
    n_splits: int = typer.Option(3, "--n-splits", help="Splits whose training parts are tuned on (validation: 1/5 of each training part)."),
    features: Optional[Path] = typer.Option(None, "--features", "-f", help=FEATURES_HELP),
    storage: Optional[str] = typer.Option(None, "--storage", help="Optuna storage URL (default sqlite:///mlruns/optuna.db; postgresql://... for many machines)."),
    study_name: Optional[str] = typer.Option(None, "--study-name", help="Study to create or join (default: from the parameters, profile and settings)."),
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    profile: str = typer.Option("quick", "--profile", "-p", help="Training profile: 'paper' or 'quick' (CPU demo)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Override the profile's epochs."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Override the profile's batch size (unless searched)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Override the profile's learning rate (unless searched)."),
    frames: Optional[int] = typer.Option(None, "--frames", help="Override the profile's frames per video."),
    seed: int = typer.Option(0, "--seed", help="Seed of the TPE sampler and of model initialisation."),
    sampler: str = typer.Option("auto", "--sampler", help="auto (grid for one listed parameter, else TPE), grid or tpe."),
    prune: bool = typer.Option(True, "--prune/--no-prune", help="Stop unpromising trials early (Optuna's median pruner)."),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP + " Resolved once per study: every trial shares it."),
    evaluate: bool = typer.Option(False, "--evaluate", help="Then run the best setting under the full test protocol (bench run) beside the paper's Table 3."),
    eval_splits: int = typer.Option(10, "--eval-splits", help="Splits for --evaluate (the protocol's 10)."),
) -> None:
    """Search hyperparameters on validation parts of the training splits (the test parts are never read)."""
    with user_errors():
        from rich.console import Console

        from benchmark.config import get_profile
        from benchmark.params import check_choice, check_int, resolve_device
        from benchmark.precision import check_precision
        from benchmark.runner import store_for
        from benchmark.tuning.outputs import pct, write_report
        from benchmark.tuning.search import run_search
        from benchmark.tuning.space import build_space
        from features.store import open_store

        device = resolve_device(device)
        check_precision(precision)
        check_choice("sampler", sampler, ["auto", "grid", "tpe"])
        check_int("n_splits", n_splits, low=1)
        check_int("eval_splits", eval_splits, low=1)
        console = Console()
        space = build_space(param, values)
        chosen = get_profile(profile)
        store = open_store(store_for(features))
        overrides = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "frames": frames, "seed": seed}
        result = run_search(
            store=store, profile=chosen, space=space, n_splits=n_splits, train_overrides=overrides,
            device=device, storage=storage, study_name=study_name, tracking_uri=tracking_uri,
            trials=trials, sampler=sampler, prune=prune, seed=seed, echo=console.print, precision=precision,
        )
        book = result.book
        notes = [
            f"Dataset {store.name} ({store.fingerprint[:12]}), profile {chosen.name}, precision {result.precision}, {n_splits} tuning splits; "
            "validation = a stratified 1/5 of each split's training part; test parts never read.",
        ]
        if store.synthetic:
            notes.append("Synthetic data: these numbers say nothing about real videos.")
        report = write_report(result.study, book, space, store.name, f"Study {result.study_name}", notes)
        states = [t.state.name for t in book.done]
        console.print(
            f"ran {result.ran} trials in this process; study: {states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned, "
            f"{states.count('FAIL')} failed, {len(book.active)} running elsewhere"
            + ("" if result.finished else " (not finished: run again, or wait for the other processes)")
        )
        if report.best is None:
            console.print("[yellow]no complete trial yet: no best setting")
            raise typer.Exit(1)
        best = report.best
        setting = ", ".join(f"{k}={v}" for k, v in best["params"].items())
        console.print(
            f"[bold]best {setting}[/bold]: validation accuracy {pct(best['val_acc_mean'])} ± {pct(best['val_acc_std'])} % "
            f"(trial {best['trial']}, {len(best['val_acc_splits'] or [])} splits)"
        )
        console.print(f"table, plot and best setting: {report.directory}; MLflow parent run {result.parent_run_id}")
        if evaluate:
            from benchmark.tuning.evaluate import evaluate_best

            evaluate_best(
                study_name=result.study_name, space=space, best=best["params"], store=store, profile=chosen,
                n_splits=eval_splits, train_overrides=overrides, tracking_uri=tracking_uri, device=device, console=console,
                precision=result.precision,
            )


def register(app: typer.Typer) -> None:
    app.command("tune")(tune)
