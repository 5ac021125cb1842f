"""Check a tracking URI before any work starts: one clear line instead of a traceback or minutes of silence.

MLflow itself retries an unreachable server for minutes and an unopenable SQLite file for about two,
then fails with a traceback. Every command that opens the tracking store (run, tune, report, ui)
calls :func:`check_tracking_uri` first; a problem is a :class:`ParamError` (exit 2).
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from benchmark import credentials, faults, sqlite, tracking
from benchmark.params import ParamError
from benchmark.redaction import check_url, redact

KNOWN_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks", "file")
SERVER_TIMEOUT_S = 5
# MLflow's own HTTP settings (mlflow/environment_variables.py): its defaults (7 retries with backoff,
# 120 s per request) turn a server that went away into minutes of silence.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
SQLITE_MAGIC = b"SQLite format 3\x00"


def check_tracking_uri(uri: str | None, *, read_only: bool = False) -> str:
    """The URI to give MLflow, after checking it can work. ``read_only`` (bench report): a SQLite file
    that cannot be written is opened read-only instead of refused."""
    raw = uri or os.environ.get("MLFLOW_TRACKING_URI") or tracking.DEFAULT_TRACKING_URI
    scheme = raw.split(":", 1)[0].split("+", 1)[0].lower() if ":" in raw else ""
    if scheme not in KNOWN_SCHEMES or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw):
        raise ParamError(
            f"tracking URI {shown(raw)!r} is not one MLflow can open: use sqlite:///PATH/mlflow.db, "
            "http://HOST:PORT (a bench server) or postgresql://USER:PASSWORD@HOST/DB"
        )
    check_url(raw, "--tracking-uri")
    if scheme == "sqlite":
        checked = _check_sqlite(raw, read_only)
        faults.watch(checked)
        return checked
    if scheme in ("http", "https"):
        raw = credentials.adopt_userinfo(raw)
        _check_server(raw)
        credentials.check_access(raw, SERVER_TIMEOUT_S)
    return raw


def _check_sqlite(raw: str, read_only: bool) -> str:
    found = sqlite.database_path(raw)
    if found is None or raw in (sqlite.SCHEME, sqlite.SCHEME + ":memory:"):
        raise ParamError(f"tracking URI {raw!r} names no database file: use sqlite:///PATH/mlflow.db")
    if raw.startswith(sqlite.URI_FILENAME):  # already a SQLite URI filename (e.g. a read-only one)
        return raw
    db = found.absolute()
    if db.is_dir():
        raise ParamError(f"tracking URI {raw!r}: {db} is a folder, not a database file; use sqlite:///{db}/mlflow.db")
    if db.exists():
        if not db.is_file():
            raise ParamError(f"tracking URI {raw!r}: {db} is not a regular file")
        if not os.access(db, os.R_OK):
            raise ParamError(f"tracking URI {raw!r}: {db} cannot be read (permissions)")
        with db.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            raise ParamError(f"tracking URI {raw!r}: {db} is not a SQLite database")
        if _writable(db) and _writable(db.parent):
            return f"{sqlite.SCHEME}{db}"
        if read_only:
            return f"{sqlite.SCHEME}file:{db}?mode=ro&uri=true"
        raise ParamError(
            f"tracking store {db} is read-only (it or its folder cannot be written); `bench report` can read it, "
            "runs need a writable copy"
        )
    folder = _nearest_existing(db.parent)
    if not folder.is_dir():
        raise ParamError(f"tracking URI {raw!r}: {folder} is a file, so {db} cannot be created")
    if not _writable(folder) and not read_only:  # (bench report says "no runs yet" for a missing database)
        raise ParamError(f"tracking URI {raw!r}: cannot create {db}: the folder {folder} is read-only")
    return f"{sqlite.SCHEME}{db}"


def _writable(path: Path) -> bool:
    """Whether writing is allowed, also for root (who passes os.access but not a read-only mount or
    a file without write bits, which SQLite then refuses)."""
    if not os.access(path, os.W_OK):
        return False
    return not (os.geteuid() == 0 and not (path.stat().st_mode & 0o222))


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_server(raw: str) -> None:
    for name, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)
    url = raw.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=SERVER_TIMEOUT_S) as response:
            if response.status == 200:
                return
            problem = f"answered {response.status}"
    except urllib.error.HTTPError as exc:
        problem = f"answered {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        problem = f"is not reachable (no answer within {SERVER_TIMEOUT_S} s: {reason})"
    raise ParamError(f"tracking server {shown(raw)} {problem}; start it with `bench server` or check --tracking-uri")


shown = redact  # the one redaction (benchmark.redaction); this name is what report/ imports


def check_artifacts(mlflow_client, experiment_id: str) -> None:
    """A local artifact folder (beside a SQLite store) must be writable before any run starts; a server
    or cloud artifact store is the server's business."""
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    location = mlflow_client.get_experiment(experiment_id).artifact_location or ""
    parsed = urlparse(location)
    if parsed.scheme not in ("", "file"):
        return
    folder = Path(url2pathname(parsed.path)).absolute()
    existing = _nearest_existing(folder)
    if not existing.is_dir() or not _writable(existing):
        raise ParamError(
            f"the artifact folder {folder} (experiment {experiment_id}) cannot be written: {existing} is read-only "
            "or not a folder"
        )
