"""A server child (``mlflow server``, ``mlflow ui``) run in its own process group and stopped as a whole.

MLflow's server starts uvicorn and its job runner (huey) as further processes; a signal to the parent
alone leaves them serving. Here SIGTERM and SIGINT are forwarded to the whole group, the group gets
:data:`STOP_GRACE_S` to exit, then SIGKILL; the command exits 0 after SIGTERM (a requested stop) and
130 after Ctrl-C. Used by ``bench server`` and ``bench ui``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable

STOP_GRACE_S = 8.0  # then the group is killed


def port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now (an MLflow server on a taken port logs and exits 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def signal_group(server: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(server.pid, sig)
    except ProcessLookupError:
        pass


def wait_for_exit(server: subprocess.Popen, stop_requested_at: list[float]) -> int:
    """Wait for the server by polling (a signal handler may run meanwhile); once a stop was requested,
    kill the group if it is still there after :data:`STOP_GRACE_S`."""
    while server.poll() is None:
        if stop_requested_at and time.monotonic() - stop_requested_at[0] > STOP_GRACE_S:
            signal_group(server, signal.SIGKILL)
        time.sleep(0.1)
    return server.returncode


class Supervised:
    """The server child and the stop signals received so far (forwarded to its group as they come)."""

    def __init__(self, command: list[str], env: dict[str, str]):
        self.server = subprocess.Popen(command, start_new_session=True, env=env)  # its own group: stopped as a whole
        self.stop_requested_at: list[float] = []
        self.received: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._forward)

    def _forward(
        self, signum, _frame
    ) -> None:  # no waiting here: the main loop waits, and kills after the grace period
        self.received.append(signum)
        if not self.stop_requested_at:
            self.stop_requested_at.append(time.monotonic())
        signal_group(self.server, signum)

    def wait(self) -> int:
        """The exit code for the command: the server's own, or 0 / 130 after SIGTERM / Ctrl-C."""
        code = wait_for_exit(self.server, self.stop_requested_at)
        signal_group(self.server, signal.SIGKILL)  # what the server started and left behind (its job runners)
        if self.received:
            return 130 if self.received[0] == signal.SIGINT else 0
        return code

    def close(self) -> None:
        """Never leave the server behind (an error in this process)."""
        if self.server.poll() is None:
            signal_group(self.server, signal.SIGTERM)
            self.stop_requested_at[:] = [time.monotonic()]
            wait_for_exit(self.server, self.stop_requested_at)


def supervise(command: list[str], env: dict[str, str], after_start: Callable[[Supervised], None] | None = None) -> int:
    """Run the server until it exits or a stop signal ends it; returns the command's exit code."""
    supervised = Supervised(command, env)
    try:
        if after_start is not None:
            after_start(supervised)
        return supervised.wait()
    finally:
        supervised.close()
