"""Storage faults: a full disk, a read-only or vanished folder, files that disappeared under a run.

These are not training errors (every later split would hit them too) nor bad input: the command
stops at once with one line naming the path and the problem and exits with :data:`EXIT_CODE`.
Nothing is lost: SQLite rolls the failed transaction back, a run left RUNNING is closed as KILLED by
the next ``bench run`` (its process is gone), and that rerun trains only what did not finish.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from pathlib import Path

from benchmark import sqlite

EXIT_CODE = 3

_ERRNO_PROBLEMS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EFBIG: "the file size limit was reached",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "it vanished (no such file or folder)",
    errno.ESTALE: "it vanished (stale file handle)",
    errno.EIO: "an input/output error occurred",
}
# SQLite's own messages (sqlite3.OperationalError, usually wrapped by SQLAlchemy and then MLflow).
_SQLITE_PROBLEMS = (
    ("database or disk is full", "the disk is full"),
    ("attempt to write a readonly database", "it became read-only"),
    ("readonly database", "it became read-only"),
    ("unable to open database file", "it cannot be opened (its folder vanished or became read-only)"),
    ("disk i/o error", "an input/output error occurred (full disk or vanished file?)"),
    ("no such table", "its tables vanished (the database file was deleted or replaced)"),
    ("file is not a database", "it was replaced by a file that is not a database"),
)


#: What a store that disappeared while the command used it is called (SQLite, split jobs, artifact folders).
VANISHED = "it vanished (moved or deleted while the command used it)"

_watched: list[str] = []  # the SQLite database of the command running now (set by the URI check)


def watch(uri: str | None) -> None:
    """Remember the command's SQLite tracking database, to name it when SQLite's message does not."""
    path = sqlite.database_path(uri)
    _watched[:] = [str(path)] if path else []


def watched() -> str | None:
    return _watched[0] if _watched else None


class StorageFault(Exception):
    """One line: the path, then the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # raised in a worker process, it crosses back pickled
        return (type(self), (self.path, self.problem))


class ServiceGone(Exception):
    """A service the command depends on (the tracking server, the Dask scheduler) went away and did not
    come back in time: one line (its message), exit :data:`EXIT_CODE`; the rerun resumes."""

    def __reduce__(self):  # raised in a worker process, it crosses back pickled
        return (type(self), self.args)


def infrastructure_line(exc: BaseException) -> str | None:
    """The one line of a :class:`ServiceGone` anywhere in ``exc``'s chain, else None."""
    for link in _chain(exc):
        if isinstance(link, ServiceGone):
            return str(link)
    return None


def stops_command(exc: BaseException) -> bool:
    """Whether a job's error stops the whole command (a storage fault, a service gone) rather than failing one split."""
    return classify(exc) is not None or infrastructure_line(exc) is not None


def raise_if_fault(exc: BaseException) -> None:
    """In an executor, for a job's error: a storage fault (or a feature store whose files vanished
    after the run opened it) stops the command instead of failing every split one by one."""
    from features.errors import StoreError

    if isinstance(exc, StoreError):
        raise StorageFault(
            exc.file, f"the feature store changed or vanished while the command ran ({exc.problem})"
        ) from exc
    fault = classify(exc)
    if fault is not None:
        raise fault from exc
    if infrastructure_line(exc) is not None:
        raise exc


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def classify(exc: BaseException, tracking_path: str | Path | None = None) -> StorageFault | None:
    """The storage fault behind ``exc`` (anywhere in its chain), or None for any other error.
    ``tracking_path``: the SQLite database to name when the error itself names no file."""
    tracking_path = tracking_path or watched()
    for link in _chain(exc):
        if isinstance(link, StorageFault):
            return link
        if isinstance(link, OSError) and link.errno in _ERRNO_PROBLEMS:
            if link.errno == errno.ENOENT and not link.filename:
                continue  # e.g. a missing executable: not a storage fault
            return StorageFault(_named(link, tracking_path), _ERRNO_PROBLEMS[link.errno])
    for link in _chain(exc):
        text = str(link).lower()
        for needle, problem in _SQLITE_PROBLEMS:
            if needle in text:
                path = tracking_path or _database_named(str(link))
                if (
                    path and "read-only" in problem and not Path(path).exists()
                ):  # SQLite reports a moved or deleted file as read-only
                    problem = VANISHED
                return StorageFault(path or "the tracking database", problem)
    return None


def _named(error: OSError, tracking_path: str | Path | None) -> str | Path:
    """The path to name for ``error``: its file; for a full disk met while copying into the tracking store's own
    folder (an artifact: shutil names the copy's source first, its destination second) or by a temporary file on
    the store's file system, the store itself, which is what the user frees."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT) and tracking_path:
        import tempfile

        store = Path(tracking_path).absolute().parent
        try:
            for name in (getattr(error, "filename2", None), error.filename):
                if not name:
                    continue
                where = Path(str(name)).absolute()
                if where.is_relative_to(store) or (
                    where.is_relative_to(Path(tempfile.gettempdir()).absolute())
                    and store.stat().st_dev == Path(tempfile.gettempdir()).stat().st_dev
                ):
                    return tracking_path
        except OSError:
            pass
    return error.filename or tracking_path or "the tracking store"


def _database_named(text: str) -> str | None:
    found = re.search(r"sqlite:///(\S+?\.db)", text)
    return found.group(1) if found else None
