"""``bench synth``: write the built-in synthetic store to a folder."""

from __future__ import annotations

from pathlib import Path

import typer

from benchmark.commands.common import user_errors


def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write the store to."),
    seed: int = typer.Option(0, help="Generator seed; the default store uses 0."),
    frames: int = typer.Option(100, help="Frames per video (the paper's T)."),
    version: int = typer.Option(4, "--version", help="Generator version: 4 (default; records its ceilings) or 3 (older stores)."),
) -> None:
    """Write the synthetic VideoEmotion-8-shaped store (see README: 'The synthetic store')."""
    with user_errors():
        from benchmark.params import check_choice
        from features.synthetic import GENERATORS, make_synthetic_store

        check_choice("--version", version, sorted(GENERATORS))
        path = make_synthetic_store(out, seed=seed, frames=frames, version=version)
    typer.echo(f"wrote synthetic store to {path}")


def register(app: typer.Typer) -> None:
    app.command("synth")(synth)
