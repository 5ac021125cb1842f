"""Riding out a tracking server that stops answering (a restart, a deploy), instead of failing the run.

:func:`patient` wraps the MLflow client of an ``http(s)://`` tracking URI: a call that fails because the
server does not answer (connection refused or reset, 502/503/504) is tried again with backoff until the
server is back or :func:`wait_limit_s` seconds have passed (``--server-wait``, ``$BENCH_SERVER_WAIT``,
default :data:`DEFAULT_WAIT_S`). The process says once that it waits, and once that it goes on; a split
being trained just pauses at its next log call and goes on, so nothing is lost. Past the limit the call
raises :class:`benchmark.faults.ServiceGone` (one line, exit 3): the runs this process left RUNNING are
closed as KILLED by the next ``bench run`` (their process is gone), which trains those splits again.
After a stop signal nothing waits. Any command (``bench run``, ``tune``, ``evaluate``) gets this by
opening its client with :func:`benchmark.tracking.client`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

ENV = "BENCH_SERVER_WAIT"
DEFAULT_WAIT_S = 300.0
_GONE = (
    "max retries exceeded",
    "connection refused",
    "connectionerror",
    "connection aborted",
    "connection reset",
    "remotedisconnected",
    "failed to establish a new connection",
    "too many 502",
    "too many 503",
    "too many 504",
    "read timed out",
    "bad gateway",
    "service unavailable",
)


def wait_limit_s() -> float:
    """``$BENCH_SERVER_WAIT`` (seconds; set by ``--server-wait``), else :data:`DEFAULT_WAIT_S`."""
    try:
        return max(0.0, float(os.environ.get(ENV, DEFAULT_WAIT_S)))
    except ValueError:
        return DEFAULT_WAIT_S


def set_wait_limit(seconds: float | None) -> None:
    """``--server-wait``: for this process and the worker processes it starts."""
    if seconds is not None:
        from benchmark.params import check_float

        os.environ[ENV] = str(check_float("--server-wait", seconds, low=0.0))


def server_gone(exc: BaseException | None) -> bool:
    """Whether ``exc`` (anywhere in its chain) says the server did not answer, rather than refusing a request."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__name__ in (
            "ConnectionError",
            "ConnectionRefusedError",
            "ConnectionResetError",
            "RemoteDisconnected",
        ):
            return True
        text = str(exc).lower()
        if any(needle in text for needle in _GONE):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class PatientClient:
    """An MLflow client whose calls wait for a server that went away (see the module)."""

    def __init__(
        self, client: Any, uri: str, say: Callable[[str], None] = _say, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._client, self._uri, self._say, self._sleep = client, uri, say, sleep

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._call(attr, args, kwargs)

        return call

    def _call(self, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        from benchmark import faults, signals
        from benchmark.redaction import redact

        started: float | None = None
        delay, said = 1.0, False
        while True:
            try:
                result = method(*args, **kwargs)
            except Exception as exc:
                if not server_gone(exc):
                    raise
                limit = wait_limit_s()
                started = started or time.monotonic()
                waited = time.monotonic() - started
                if signals.stopping() or waited >= limit:
                    raise faults.ServiceGone(
                        f"tracking server {redact(self._uri)} did not answer for {waited:.0f} s (limit {limit:.0f} "
                        "s: --server-wait, "
                        f"${ENV}); runs left RUNNING are closed by the next bench run, which trains them again: "
                        "run the same command when the server is back"
                    ) from exc
                if not said:
                    self._say(
                        f"tracking server {redact(self._uri)} is not answering: waiting up to {limit:.0f} s for it "
                        f"(--server-wait, ${ENV})"
                    )
                    said = True
                self._sleep(min(delay, max(0.1, limit - waited)))
                delay = min(delay * 2, 15.0)
                continue
            if said and started is not None:
                self._say(
                    f"tracking server {redact(self._uri)} is back after {time.monotonic() - started:.0f} s: going on"
                )
            return result


def patient(client: Any, uri: str) -> Any:
    """``client`` made patient when ``uri`` is a server's; a local store's client as it is."""
    return PatientClient(client, uri) if uri.startswith(("http://", "https://")) else client
