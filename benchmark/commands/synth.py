"""``bench synth``: write the built-in synthetic store to a folder."""

from __future__ import annotations

from pathlib import Path

import typer

from benchmark.commands.common import user_errors


def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write the store to."),
    seed: int = typer.Option(0, help="Generator seed; the default store uses 0."),
    frames: int = typer.Option(100, help="Frames per video (the paper's T)."),
    version: int = typer.Option(
        4, "--version", help="Generator version: 4 (default; records its ceilings) or 3 (older VE-8 stores)."
    ),
    dataset: str = typer.Option(
        "ve8",
        "--dataset",
        help="Shape: ve8 (VideoEmotion-8, 10 random 2/3 splits) or ekman6 (Ekman-6, one official split kept in the "
        "store).",
    ),
) -> None:
    """Write a synthetic store shaped like VideoEmotion-8 or Ekman-6, with its protocol (see
    docs/guide/feature-store.md: 'The synthetic store')."""
    with user_errors():
        from benchmark.params import check_choice
        from benchmark.protocol import resolve_protocol
        from features.store import open_store
        from features.synthetic import SHAPES, make_synthetic_store

        check_choice("--dataset", dataset, sorted(SHAPES))
        check_choice("--version", version, sorted(SHAPES[dataset][1]))
        path = make_synthetic_store(out, seed=seed, frames=frames, version=version, dataset=dataset)
        store = open_store(path)
        protocol = resolve_protocol(store)
        line = protocol.describe(len(protocol.splits(store)))
    typer.echo(f"wrote synthetic store to {path}; protocol: {line}")


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
