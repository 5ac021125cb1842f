"""Worker processes that run one job at a time each, for the ``processes`` executor.

A small pool of our own rather than ``concurrent.futures``: when a worker dies, a ProcessPoolExecutor
breaks as a whole and cannot say which job was running, nor how the process ended; and on a stop
signal it cannot stop its workers (they were left blocked on a pipe). Here each :class:`Worker` knows
its job and its process, so a death is charged to that one job, and :func:`stop_all` ends every worker
(SIGTERM: its job marks its run KILLED; SIGKILL after :data:`benchmark.signals.STOP_GRACE_S`).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from benchmark import signals

_OOM_EVENTS = Path("/sys/fs/cgroup/memory.events")


def _serve(conn: Connection, fn: Callable[[Any], Any], threads: int) -> None:
    """A worker's loop: receive a job, send back ("ok", outcome) or ("error", exception); None ends it."""
    try:
        signals.install()  # a stop signal ends the job as Ctrl-C would: its run is marked KILLED
        import torch

        torch.set_num_threads(threads)
        while (job := conn.recv()) is not None:
            try:
                reply = ("ok", fn(job))
            except Exception as exc:
                reply = ("error", exc)
            try:
                conn.send(reply)
            except Exception as exc:
                conn.send(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}"[:2000] or repr(exc))))
    except KeyboardInterrupt:  # stopped: the job marked its run KILLED; skip the slow teardown of torch and MLflow
        sys.stderr.flush()
        os._exit(0)
    except (EOFError, BrokenPipeError):
        return  # the coordinator went away


class Worker:
    """One spawned worker process and the job it runs now (None when idle)."""

    def __init__(self, context, fn: Callable[[Any], Any], threads: int):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, fn, threads), daemon=True)
        self.process.start()
        child.close()
        self.job: Any = None
        self.oom_kills = oom_kills()

    def give(self, job: Any) -> None:
        self.job = job
        self.conn.send(job)

    def receive(self) -> tuple[str, Any] | None:
        """The reply to the current job, or None when the worker died before it could send one."""
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None

    def death(self) -> str:
        """How the process ended, in words; out of memory named where the system says so."""
        self.process.join(timeout=5)
        code = self.process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
            if oom_kills() > self.oom_kills:
                return f"killed by the out-of-memory killer ({name})"
            if -code == signal.SIGKILL:
                return "killed by SIGKILL (the out-of-memory killer sends it: too little memory?)"
            return f"killed by {name}"
        return f"exited with status {code}"

    def end(self) -> None:
        """Ask an idle worker to exit; it is joined (or killed) by :func:`stop_all`."""
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass


def stop_all(workers: list[Worker], *, signal_them: bool) -> None:
    """End every worker: busy ones get SIGTERM when ``signal_them`` (a stop: their jobs mark their runs
    KILLED), then all get :data:`benchmark.signals.STOP_GRACE_S` to exit before SIGKILL."""
    for worker in workers:
        if worker.process.is_alive():
            if worker.job is None:
                worker.end()
            elif signal_them:
                try:
                    os.kill(worker.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
    deadline = time.monotonic() + signals.STOP_GRACE_S
    for worker in workers:
        worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(timeout=5)
        worker.conn.close()


def oom_kills() -> int:
    """The cgroup's count of out-of-memory kills (cgroup v2), 0 where the system does not say."""
    try:
        for line in _OOM_EVENTS.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        pass
    return 0
