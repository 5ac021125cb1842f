"""The ``bench`` command line. Each subcommand lives in its own module under ``benchmark.commands``.

Command modules import only light libraries at import time, so ``bench --help`` stays fast; torch,
MLflow and friends load inside the command that needs them.
"""

from __future__ import annotations

import importlib

import typer

COMMANDS = ("run", "models", "synth", "ui", "server")

app = typer.Typer(
    name="bench",
    help="Reproducible benchmark suite for multi-modal video emotion recognition.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in COMMANDS:
    importlib.import_module(f"benchmark.commands.{_name}").register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
