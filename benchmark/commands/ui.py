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


def stop_group(server: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    """Send ``sig`` to the server's process group, wait, then kill whatever is left."""
    try:
        os.killpg(server.pid, sig)
    except ProcessLookupError:
        pass
    try:
        return server.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return server.wait()


def ui(
    tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    port: int = typer.Option(5000, help="Port to serve on (127.0.0.1)."),
    startup_timeout: float = typer.Option(120.0, "--startup-timeout", help="Seconds to wait for the server to answer."),
) -> None:
    """Serve the MLflow UI at http://127.0.0.1:PORT and print a link to each suite's table (Ctrl-C stops it)."""
    from benchmark.params import ParamError
    from benchmark.tracking import client as tracking_client, tracking_uri as resolve
    from benchmark.tracking_views.views import all_links

    host, url = "127.0.0.1", f"http://127.0.0.1:{port}"
    with user_errors():
        uri = resolve(tracking_uri)
        if not _port_free(host, port):
            raise ParamError(f"port {port} on {host} is in use (another bench ui or MLflow server?); pass --port")
        links = all_links(tracking_client(uri), url)
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", host, "--port", str(port)]
    server = subprocess.Popen(command, start_new_session=True)  # its own process group: stopped as a whole

    def forward(signum, _frame):
        stop_group(server, signum)
        raise SystemExit(130 if signum == signal.SIGINT else 0)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        if not wait_until_up(url, server, startup_timeout):
            code = server.poll()
            stop_group(server)
            typer.secho(f"error: the MLflow server did not answer at {url} (exit code {code}); see its output above", fg="red", err=True)
            raise typer.Exit(1)
        typer.echo(f"MLflow UI for {uri} at {url}")
        if links:
            for experiment, suite, link in links:
                typer.echo(f"  {experiment} / {suite}: {link}")
        else:
            typer.echo("  no suite tables yet: run `bench run --suite table2` first")
        typer.echo("Ctrl-C stops the server.")
        sys.stdout.flush()
        raise typer.Exit(server.wait())
    finally:
        if server.poll() is None:
            stop_group(server)


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
