"""``bench synth``: write the built-in synthetic store to a folder."""

from __future__ import annotations

from pathlib import Path

import typer


def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write the store to."),
    seed: int = typer.Option(0, help="Generator seed; the default store uses 0."),
    frames: int = typer.Option(100, help="Frames per video (the paper's T)."),
) -> None:
    """Write the synthetic VideoEmotion-8-shaped store (see README: 'The synthetic store')."""
    from features.synthetic import make_synthetic_store

    path = make_synthetic_store(out, seed=seed, frames=frames)
    typer.echo(f"wrote synthetic store to {path}")


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
