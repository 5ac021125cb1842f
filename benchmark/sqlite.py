"""Local SQLite databases (MLflow's default store, Optuna's default storage) shared by processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEME = "sqlite:///"
URI_FILENAME = SCHEME + "file:"  # sqlite:///file:PATH?mode=ro&uri=true: a read-only opening (bench report)


def database_path(url: str | None) -> Path | None:
    """The database file a ``sqlite:///`` URL opens (also a read-only ``file:`` opening), else None.

    The one parser of SQLite URLs in the project: everything that needs the file asks here."""
    if not url or not url.startswith(SCHEME):
        return None
    rest = url[len(SCHEME) :]
    if rest.startswith("file:"):
        rest = rest[len("file:") :].split("?", 1)[0]
    return Path(rest)


def writable_database(url: str) -> Path | None:
    """The database file of a plain (read-write) ``sqlite:///`` URL; None for a read-only opening or another store."""
    return None if url.startswith(URI_FILENAME) else database_path(url)


def absolute(url: str) -> str:
    """A relative SQLite path made absolute (its folder created), so that worker processes started
    elsewhere open the same file; other URLs unchanged."""
    relative = writable_database(url)
    if relative is None:
        return url
    db = relative.absolute()
    db.parent.mkdir(parents=True, exist_ok=True)
    return f"{SCHEME}{db}"


@contextmanager
def creation_lock(url: str) -> Iterator[None]:
    """Serialise opening a SQLite database across processes started together.

    The first opening creates the tables (MLflow's and Optuna's migrations), which is not safe when two
    processes do it at once; a lock file beside the database makes the second wait. Other URLs: no lock.
    """
    db = writable_database(url)
    if db is None:
        yield
        return
    import fcntl

    lock = db.with_name(db.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def create_atomically(url: str, open_store) -> None:
    """Create a missing SQLite database at a temporary name in its folder, then link it into place,
    so a process killed during MLflow's migrations leaves no half-made database (only a temporary file,
    removed by the next creation). Call under :func:`creation_lock`; ``open_store(url)`` creates the tables."""
    import os
    import uuid

    found = writable_database(url)
    if found is None:
        return
    db = found
    for leftover in db.parent.glob(f".{db.name}.creating-*"):
        leftover.unlink(missing_ok=True)
    if db.exists():
        return
    # unique per attempt: MLflow caches its engine per URI, so a retry in this process needs a new name
    temporary = db.parent / f".{db.name}.creating-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        open_store(f"{SCHEME}{temporary}")
    except BaseException:  # a full disk, say: the half-made file must not stay and fill it
        for leftover in db.parent.glob(f"{temporary.name}*"):  # with its journal
            leftover.unlink(missing_ok=True)
        raise
    try:  # a hard link never replaces a database that another MLflow client created meanwhile
        os.link(temporary, db)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not db.exists():
            os.replace(temporary, db)
    temporary.unlink(missing_ok=True)
