"""Options and error handling shared by several commands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

TRACKING_HELP = "MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db)."
FEATURES_HELP = (
    "Feature store folder, or a built-in synthetic store's name: synthetic-ve8 (the default) or synthetic-ekman6 "
    "(generated on first use)."
)
DEVICE_HELP = "auto (CUDA when available), cpu or cuda."
PRECISION_HELP = (
    "auto (bf16 autocast where the device has native bf16 and the model is wide enough to gain, else fp32), "
    "fp32 or bf16; weights, optimiser state and loss stay fp32 (docs/guide/performance.md)."
)


SERVER_WAIT_HELP = (
    "Seconds to wait for a tracking server that stops answering mid-run (a restart) before stopping with exit 3 "
    "(default: $BENCH_SERVER_WAIT, else 300)."
)
PLUGIN_HELP = (
    "A Python file or importable module that registers models with baselines.registry.register_model "
    "(repeatable; a suite file's plugins = [...] and installed ver_bench.models entry points load too)."
)


def load_plugins(cli_specs: list[str] | None, suite=None) -> tuple[str, ...]:
    """Load ``--plugin`` specs (relative to the working folder) and the suite's own; returns every resolved spec,
    which jobs carry so that worker processes load the same plugins."""
    from baselines.plugins import load_plugins as load
    from baselines.plugins import resolve_spec

    specs = [resolve_spec(spec) for spec in cli_specs or []]
    specs += [spec for spec in (suite.plugins if suite is not None else ()) if spec not in specs]
    load(specs)
    return tuple(specs)


def store_for(features: Path | None) -> Path:
    """``--features``: a folder, or a built-in store's name (generated into the cache on first use); none:
    the default synthetic store."""
    from features.synthetic import store_path

    return store_path(features)


@contextmanager
def user_errors() -> Iterator[None]:
    """Bad input (and refused credentials) ends in one clear line and exit code 2, a storage fault
    (full disk, read-only or vanished files) or a tracking server gone past the wait in one line and exit
    code 3, a stop signal (SIGTERM, Ctrl-C) in one line and 128 + its number, not a traceback."""
    from benchmark import faults, signals
    from benchmark.credentials import refusal
    from benchmark.params import ParamError
    from features.errors import StoreError

    try:
        with signals.installed():
            yield
    except (StoreError, ParamError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:
        line = refusal(exc)
        if line is not None:
            typer.secho(f"error: {line}", fg="red", err=True)
            raise typer.Exit(2) from None
        fault = faults.classify(exc)
        if fault is None:
            gone = faults.infrastructure_line(exc)
            if gone is None:
                raise
            typer.secho(f"error: {gone}", fg="red", err=True)
            raise typer.Exit(faults.EXIT_CODE) from None
        typer.secho(
            f"error: {fault}; free space or fix the folder, then run the same command again to continue",
            fg="red",
            err=True,
        )
        raise typer.Exit(faults.EXIT_CODE) from None
    except KeyboardInterrupt as exc:
        typer.secho(signals.stop_line(exc), fg="yellow", err=True)
        sys.exit(signals.exit_code(exc))


METRICS_HELP = (
    "Registered metrics the md/LaTeX/HTML tables show, comma-separated (`bench models` lists them, plugins' "
    "included); table.csv always has every one."
)


def parse_metrics(text: str) -> list[str]:
    """``--metrics accuracy,macro_f1`` -> the names, each checked against the registry (after plugins load)."""
    from benchmark.metrics import get_metric

    names = [n.strip() for n in text.split(",") if n.strip()] or ["accuracy"]
    for name in names:
        get_metric(name)
    return names
