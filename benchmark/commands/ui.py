"""``bench ui``: open the MLflow UI on the suite's tracking store."""

from __future__ import annotations

import subprocess
import sys
from typing import Optional

import typer

from benchmark.commands.common import TRACKING_HELP


def ui(
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    port: int = typer.Option(5000, help="Port to serve on (127.0.0.1)."),
) -> None:
    """Serve the MLflow UI at http://127.0.0.1:PORT to compare runs (Ctrl-C stops it)."""
    from benchmark.commands.common import user_errors
    from benchmark.tracking import tracking_uri as resolve
    from benchmark.uri_check import check_tracking_uri

    with user_errors():
        uri = resolve(check_tracking_uri(tracking_uri))
    typer.echo(f"MLflow UI for {uri} at http://127.0.0.1:{port}")
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", "127.0.0.1", "--port", str(port)]
    raise typer.Exit(subprocess.call(command))


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
