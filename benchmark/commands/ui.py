"""``bench ui``: the MLflow UI on the tracking store, opened on each suite's table.

The server runs as a child in its own process group; SIGTERM and SIGINT (Ctrl-C) to ``bench ui``
are passed on to the whole group, so no server process is left holding the port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import typer

from benchmark.commands.common import TRACKING_HELP, user_errors


def wait_until_up(url: str, server: subprocess.Popen, timeout_s: float) -> bool:
    """Poll the server's /health until it answers; False if it exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def ui(
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    port: int = typer.Option(5000, help="Port to serve on (127.0.0.1)."),
    workers: int = typer.Option(1, "--workers", help="MLflow server worker processes (one serves one person well)."),
    startup_timeout: float = typer.Option(120.0, "--startup-timeout", help="Seconds to wait for the server to answer."),
) -> None:
    """Serve the MLflow UI at http://127.0.0.1:PORT and print a link to each suite's table (Ctrl-C stops it)."""
    from benchmark.params import ParamError
    from benchmark.server.process import port_free
    from benchmark.tracking import client as tracking_client
    from benchmark.tracking import tracking_uri as resolve
    from benchmark.tracking.views import all_links
    from benchmark.uri_check import check_tracking_uri, shown

    host, url = "127.0.0.1", f"http://127.0.0.1:{port}"
    with user_errors():
        uri = resolve(check_tracking_uri(tracking_uri))
        if uri.startswith(("http://", "https://")):  # a bench server is its own UI (signed in, when it has --auth)
            for experiment, suite, link in all_links(tracking_client(uri), uri.rstrip("/")):
                typer.echo(f"  {experiment} / {suite}: {link}")
            typer.echo(
                f"MLflow UI of the tracking server: {shown(uri)} (your browser asks for the user name and password)"
            )
            return
        if not port_free(host, port):
            raise ParamError(f"port {port} on {host} is in use (another bench ui or MLflow server?); pass --port")
        links = all_links(tracking_client(uri), url)
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # MLflow's background job runner (GenAI scorer jobs) is not needed to look at runs: leave it off.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    from benchmark.server.process import supervise

    def announce(supervised) -> None:
        if not wait_until_up(url, supervised.server, startup_timeout) and not supervised.received:
            typer.secho(
                f"error: the MLflow server did not answer at {url} (exit code {supervised.server.poll()}); see its "
                "output above",
                fg="red",
                err=True,
            )
            raise typer.Exit(1)
        if not supervised.received:
            typer.echo(f"MLflow UI for {shown(uri)} at {url}")
            if links:
                for experiment, suite, link in links:
                    typer.echo(f"  {experiment} / {suite}: {link}")
            else:
                typer.echo("  no suite tables yet: run `bench run --suite table2` first")
            typer.echo("Ctrl-C stops the server.")
            sys.stdout.flush()

    raise typer.Exit(
        supervise(command, env, announce)
    )  # SIGTERM / Ctrl-C: forwarded to the server's whole process group


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
