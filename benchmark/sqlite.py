"""Local SQLite databases (MLflow's default store, Optuna's default storage) shared by processes."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SCHEME = "sqlite:///"


def absolute(url: str) -> str:
    """A relative SQLite path made absolute (its folder created), so that worker processes started
    elsewhere open the same file; other URLs unchanged."""
    if not url.startswith(SCHEME):
        return url
    db = Path(url[len(SCHEME) :]).absolute()
    db.parent.mkdir(parents=True, exist_ok=True)
    return f"{SCHEME}{db}"


@contextmanager
def creation_lock(url: str) -> Iterator[None]:
    """Serialise opening a SQLite database across processes started together.

    The first opening creates the tables (MLflow's and Optuna's migrations), which is not safe when two
    processes do it at once; a lock file beside the database makes the second wait. Other URLs: no lock.
    """
    if not url.startswith(SCHEME):
        yield
        return
    import fcntl

    lock = Path(url[len(SCHEME) :] + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
