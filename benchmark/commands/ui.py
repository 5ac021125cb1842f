"""``bench ui``: the MLflow UI on the tracking store, opened on each suite's table.

The server runs as a child in its own process group; SIGTERM and SIGINT (Ctrl-C) to ``bench ui``
are passed on to the whole group, so no server process is left holding the port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Optional

import typer

from benchmark.commands.common import TRACKING_HELP, user_errors

STOP_GRACE_S = 8.0  # then the group is killed


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


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


def _signal_group(server: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(server.pid, sig)
    except ProcessLookupError:
        pass


def wait_for_exit(server: subprocess.Popen, stop_requested_at: list[float]) -> int:
    """Wait for the server by polling (a signal handler may run meanwhile); once a stop was requested,
    kill the group if it is still there after :data:`STOP_GRACE_S`."""
    while server.poll() is None:
        if stop_requested_at and time.monotonic() - stop_requested_at[0] > STOP_GRACE_S:
            _signal_group(server, signal.SIGKILL)
        time.sleep(0.1)
    return server.returncode


def ui(
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    port: int = typer.Option(5000, help="Port to serve on (127.0.0.1)."),
    workers: int = typer.Option(1, "--workers", help="MLflow server worker processes (one serves one person well)."),
    startup_timeout: float = typer.Option(120.0, "--startup-timeout", help="Seconds to wait for the server to answer."),
) -> None:
    """Serve the MLflow UI at http://127.0.0.1:PORT and print a link to each suite's table (Ctrl-C stops it)."""
    from benchmark.params import ParamError
    from benchmark.tracking import client as tracking_client, tracking_uri as resolve
    from benchmark.tracking.views import all_links
    from benchmark.uri_check import check_tracking_uri, shown

    host, url = "127.0.0.1", f"http://127.0.0.1:{port}"
    with user_errors():
        uri = resolve(check_tracking_uri(tracking_uri))
        if uri.startswith(("http://", "https://")):  # a bench server is its own UI (signed in, when it has --auth)
            for experiment, suite, link in all_links(tracking_client(uri), uri.rstrip("/")):
                typer.echo(f"  {experiment} / {suite}: {link}")
            typer.echo(f"MLflow UI of the tracking server: {uri} (your browser asks for the user name and password)")
            return
        if not _port_free(host, port):
            raise ParamError(f"port {port} on {host} is in use (another bench ui or MLflow server?); pass --port")
        links = all_links(tracking_client(uri), url)
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", host, "--port", str(port),
               "--workers", str(workers)]
    # MLflow's background job runner (GenAI scorer jobs) is not needed to look at runs: leave it off.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    server = subprocess.Popen(command, start_new_session=True, env=env)  # its own process group: stopped as a whole
    stop_requested_at: list[float] = []
    received: list[int] = []

    def forward(signum, _frame):  # no waiting here: the main loop waits, and kills after the grace period
        received.append(signum)
        if not stop_requested_at:
            stop_requested_at.append(time.monotonic())
        _signal_group(server, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        if not wait_until_up(url, server, startup_timeout) and not received:
            code = server.poll()
            typer.secho(f"error: the MLflow server did not answer at {url} (exit code {code}); see its output above", fg="red", err=True)
            raise typer.Exit(1)
        if not received:
            typer.echo(f"MLflow UI for {shown(uri)} at {url}")
            if links:
                for experiment, suite, link in links:
                    typer.echo(f"  {experiment} / {suite}: {link}")
            else:
                typer.echo("  no suite tables yet: run `bench run --suite table2` first")
            typer.echo("Ctrl-C stops the server.")
            sys.stdout.flush()
        code = wait_for_exit(server, stop_requested_at)
        if received:
            raise typer.Exit(130 if received[0] == signal.SIGINT else 0)
        raise typer.Exit(code)
    finally:
        if server.poll() is None:  # an error in this process: never leave the server behind
            _signal_group(server, signal.SIGTERM)
            stop_requested_at[:] = [time.monotonic()]
            wait_for_exit(server, stop_requested_at)


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
