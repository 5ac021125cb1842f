"""The ``bench`` command line. Each subcommand lives in its own module under ``benchmark.commands``.

Command modules import only light libraries at import time, so ``bench --help`` stays fast; torch,
MLflow and friends load inside the command that needs them.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import benchmark.commands as _commands

# Shown first, in this order; any other module in benchmark.commands with a ``register`` follows.
_ORDER = ("run", "evaluate", "report", "tune", "extract", "perf", "models", "check-model", "synth", "server", "ui")


def _command_modules() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(_commands.__path__) if m.name != "common"}
    order = [n.replace("-", "_") for n in _ORDER]
    return [n for n in order if n in found] + sorted(found - set(order))

app = typer.Typer(
    name="bench",
    help="Reproducible benchmark suite for multi-modal video emotion recognition.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in _command_modules():
    importlib.import_module(f"benchmark.commands.{_name}").register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
