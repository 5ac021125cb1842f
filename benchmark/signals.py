"""Stop signals: SIGTERM (what ``timeout``, systemd, Slurm and ``docker stop`` send) ends a command the
way Ctrl-C (SIGINT) does.

Both raise :class:`Stopped` (a ``KeyboardInterrupt``) in the main thread, so every ``except
KeyboardInterrupt`` cleanup already in place runs: a split job marks its run KILLED, ``bench run`` marks
its row parents KILLED, the executors stop their workers. Only the first signal raises; later ones
are noted and ignored, so a second Ctrl-C cannot cut the cleanup short (it is bounded anyway: workers
get :data:`STOP_GRACE_S`, then SIGKILL). The command exits with :func:`exit_code` (128 + the signal's
number: 130 for SIGINT, 143 for SIGTERM), after one line from :func:`stop_line`.

Entry points: :func:`installed` around a command (``commands.common.user_errors`` does it for every
command), :func:`install` in a worker process, :func:`stopping` for code that must not wait any more.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGTERM, signal.SIGINT)
STOP_GRACE_S = 6.0  # a worker's time to mark its run KILLED before it is killed

_received: list[int] = []


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT):
        self.signum = int(signum)
        super().__init__(signal.Signals(self.signum).name)


def _raise(signum: int, _frame) -> None:
    first = not _received
    _received.append(signum)
    if first:
        raise Stopped(signum)


def install() -> None:
    """SIGTERM and SIGINT raise :class:`Stopped` (once) in this process's main thread."""
    _received.clear()
    for sig in SIGNALS:
        signal.signal(sig, _raise)


@contextmanager
def installed() -> Iterator[None]:
    """:func:`install` for the duration of a command, then the previous handlers again (tests run
    commands in-process). Outside the main thread (where signals cannot be caught) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    install()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stopping() -> bool:
    """Whether a stop signal arrived: cleanup code does not wait for anything (a server, a worker) then."""
    return bool(_received)


def signum_of(exc: BaseException) -> int:
    return exc.signum if isinstance(exc, Stopped) else int(signal.SIGINT)


def exit_code(exc: BaseException) -> int:
    """128 + the signal's number (the shell's convention): 130 for SIGINT (Ctrl-C), 143 for SIGTERM."""
    return 128 + signum_of(exc)


def stop_line(exc: BaseException) -> str:
    name = "Ctrl-C" if signum_of(exc) == signal.SIGINT else signal.Signals(signum_of(exc)).name
    return (
        f"stopped by {name}: runs in progress were marked KILLED and workers stopped; finished runs are kept; "
        "run the same command again to resume"
    )
