"""``bench extract``: a folder of videos -> a feature store (Swin-T, VGGish, BlazePose)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from benchmark.commands.common import DEVICE_HELP, user_errors


def extract(
    videos_dir: Path = typer.Argument(
        ..., help="Folder with one sub-folder per class (or the root that --manifest paths are relative to)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Store folder to write (resumable: run again to continue)."),
    manifest: Path | None = typer.Option(
        None, "--manifest", help="CSV with columns path,label (optional id) instead of class folders."
    ),
    frames: int = typer.Option(100, "--frames", "-T", help="Frames sampled per video (the paper's T)."),
    workers: int | None = typer.Option(
        None, "--workers", "-j", help="Videos extracted in parallel (default: half the CPU cores, at most 4)."
    ),
    device: str = typer.Option("auto", "--device", help=DEVICE_HELP + " BlazePose always runs on the CPU."),
    visual_weights: str = typer.Option(
        "timm", "--visual-weights", help="Swin-T weights: a file, 'timm' (timm's download) or 'random'."
    ),
    audio_weights: str = typer.Option(
        "download", "--audio-weights", help="VGGish weights: a file, 'download' (torchvggish's release) or 'random'."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Stop with exit code 1 at the first video that cannot be extracted."
    ),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Try videos that failed in an earlier run again."),
    name: str | None = typer.Option(
        None, "--name", help="Store name, the MLflow experiment (default: the folder's name)."
    ),
    batch_size: int = typer.Option(32, "--batch-size", help="Frames per Swin batch."),
    audio_last_window: str = typer.Option(
        "zero-padded",
        "--audio-last-window",
        help="zero-padded (every timestamp inside the audio gets an embedding) or dropped (how earlier stores were "
        "extracted: to resume one).",
    ),
    n_splits: int | None = typer.Option(
        None,
        "--n-splits",
        help="Protocol the store declares: this many seeded stratified splits (default 10; "
        "docs/guide/feature-store.md 'The feature "
        "store').",
    ),
    train_fraction: float | None = typer.Option(
        None,
        "--train-fraction",
        help="Protocol: the training fraction of every class in each random split (default 2/3).",
    ),
    split_files: Path | None = typer.Option(
        None,
        "--split-files",
        help="Protocol: official trainlistNN.txt / testlistNN.txt (/ classInd.txt), copied into the store and "
        "declared instead of random splits.",
    ),
) -> None:
    """Extract visual, audio and skeleton features from videos into a feature store (docs/guide/extraction.md:
    Extracting features from videos)."""
    with user_errors():
        from rich.console import Console

        from features.extract.pipeline import ExtractFailed
        from features.extract.pipeline import extract as run_extract

        console = Console()
        if split_files is not None and (n_splits is not None or train_fraction is not None):
            from benchmark.params import ParamError

            raise ParamError("--split-files declares official splits: leave out --n-splits and --train-fraction")
        try:
            outcome = run_extract(
                videos_dir,
                out,
                manifest=manifest,
                frames=frames,
                workers=workers,
                device=device,
                visual_weights=visual_weights,
                audio_weights=audio_weights,
                strict=strict,
                retry_failed=retry_failed,
                name=name,
                batch_size=batch_size,
                audio_last_window=audio_last_window,
                progress=lambda total: _progress(console, total),
                say=console.print,
            )
        except ExtractFailed as exc:
            typer.secho(f"failed: {exc}", fg="red", err=True)
            raise typer.Exit(1) from None
        _summary(console, outcome)
        if split_files is not None or n_splits is not None or train_fraction is not None:
            _declare(console, out, n_splits, train_fraction, split_files)


def _declare(console, out: Path, n_splits: int | None, train_fraction: float | None, split_files: Path | None) -> None:
    """Record the protocol in the store, the lists checked against its ids first (one line, exit 2)."""
    from benchmark.protocol import Protocol, resolve_protocol
    from features.protocol import (
        DEFAULT_N_SPLITS,
        DEFAULT_TRAIN_FRACTION,
        SPLITS_FOLDER,
        declare,
        files_declaration,
        random_declaration,
    )
    from features.store import open_store

    store = open_store(out)
    if split_files is not None:
        resolve_protocol(store, split_files=split_files).splits(store)
        declaration = files_declaration(SPLITS_FOLDER)
    else:
        declaration = random_declaration(
            n_splits or DEFAULT_N_SPLITS, train_fraction if train_fraction is not None else DEFAULT_TRAIN_FRACTION
        )
        Protocol(n_splits=declaration["n_splits"], train_fraction=declaration["train_fraction"]).splits(
            store
        )  # checks both
    changed = declare(out, declaration, split_files)
    store = open_store(out)
    protocol = resolve_protocol(store)
    console.print(
        f"protocol: {protocol.describe(len(protocol.splits(store)))}"
        + (" (meta.json updated: a new dataset fingerprint)" if changed else "")
    )


@contextmanager
def _progress(console, total: int) -> Iterator:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description:<32.32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("extracting", total=total, failed=0)
        failed = 0

        def advance(video, reason: str | None) -> None:
            nonlocal failed
            failed += reason is not None
            bar.update(task, advance=1, failed=failed, description=video.id)

        yield advance


def _summary(console, outcome) -> None:
    line = f"extracted {outcome.extracted} videos, reused {outcome.reused}"
    failed = len(outcome.failed)
    if failed:
        line += f"; {failed} could not be extracted (reasons in {outcome.out / 'failures.csv'})"
    console.print(line + f" -> {outcome.out}")
    if outcome.seconds:
        stages = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in outcome.seconds.items())
        console.print(f"mean time per video this run: {stages}")
    if not outcome.assembled:
        console.print(f"store unchanged: {outcome.out} already holds these videos")
    if outcome.ignored:
        console.print(
            f"[yellow]ignored {len(outcome.ignored)} files outside class folders (e.g. "
            f"{outcome.ignored[0].name})[/yellow]"
        )
    if outcome.random:
        console.print(
            f"[yellow]warning: {' and '.join(outcome.random)} features come from randomly initialised networks "
            "(weights: random-init); they carry no meaning and only test the pipeline[/yellow]"
        )


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
