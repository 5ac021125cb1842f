"""``bench server``: a shared MLflow tracking server for several machines (PostgreSQL backend)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer


def server(
    backend_store_uri: str = typer.Option(
        "sqlite:///mlruns/mlflow.db", "--backend-store-uri", help="Where runs are stored, e.g. postgresql://USER:PASSWORD@HOST:5432/mlflow."
    ),
    artifacts_destination: Path = typer.Option(
        Path("mlruns/artifacts"), "--artifacts-destination", help="Artifact root the server writes to (it serves artifacts to the workers)."
    ),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on; 0.0.0.0 to accept other machines on a trusted network."),
    port: int = typer.Option(5000, help="Port to listen on."),
    workers: Optional[int] = typer.Option(None, help="Server worker processes (MLflow's default when unset)."),
) -> None:
    """Run `mlflow server` and print the tracking URI to give workers (--tracking-uri or MLFLOW_TRACKING_URI)."""
    if backend_store_uri.startswith("sqlite"):
        from benchmark.commands.common import user_errors
        from benchmark.uri_check import check_tracking_uri

        with user_errors():  # a folder, read-only or non-SQLite file: one line now, not a server that dies later
            backend_store_uri = check_tracking_uri(backend_store_uri)
        from benchmark import tracking

        tracking.client(backend_store_uri)  # first creation of the database: atomic (see benchmark/sqlite.py)
    if backend_store_uri.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401  (SQLAlchemy 2.1's default PostgreSQL driver)
        except ImportError:
            typer.secho("error: a PostgreSQL backend needs psycopg: pip install 'ver-bench[distributed]'", fg="red", err=True)
            raise typer.Exit(2) from None
    artifacts_destination.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_store_uri,
        "--artifacts-destination", str(artifacts_destination.resolve()),
        "--serve-artifacts",
        "--host", host,
        "--port", str(port),
    ]
    if workers:
        command += ["--workers", str(workers)]
    shown = "<this machine's address>" if host == "0.0.0.0" else host
    typer.echo(f"tracking URI for workers: http://{shown}:{port}")
    typer.echo(f"  e.g. bench run --suite all --executor dask --scheduler tcp://SCHEDULER:8786 --tracking-uri http://{shown}:{port}")
    sys.stdout.flush()
    raise typer.Exit(subprocess.call(command))


def register(app: typer.Typer) -> None:
    app.command("server")(server)
