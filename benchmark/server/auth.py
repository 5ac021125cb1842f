"""What ``bench server`` needs around ``mlflow server``: who may listen where, and MLflow's basic-auth app.

Basic auth (``--app-name basic-auth``) keeps its users in a second database beside the tracking
store (a SQLite file next to it, or a second PostgreSQL database on the same server). Its two
secrets, the admin password (used once, to create the ``admin`` user) and the Flask secret key
(signs sessions and CSRF tokens; the same for every server process), come from the environment or
are generated once into files only the owner can read. Only their paths are ever printed.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmark import sqlite
from benchmark.params import ParamError

ADMIN_USER = "admin"
ADMIN_PASSWORD_ENV = "MLFLOW_AUTH_ADMIN_PASSWORD"
SECRET_KEY_ENV = "MLFLOW_FLASK_SERVER_SECRET_KEY"
MIN_PASSWORD = 12  # MLflow's own minimum for passwords
ADMIN_PASSWORD_FILE, SECRET_KEY_FILE, CONFIG_FILE, AUTH_DB_FILE = (
    "admin-password",
    "secret-key",
    "basic_auth.ini",
    "basic_auth.db",
)
DEFAULT_PERMISSION = "READ"  # what every signed-in user may do on experiments nobody granted them
# MLflow hashes (PBKDF2) the password on every request unless it caches a successful check; a bench run
# makes hundreds of requests. The price: a changed or deleted password works up to this long on other workers.
AUTH_CACHE_TTL_S = 60


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost`` reach only this machine."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, auth: bool, insecure: bool) -> str | None:
    """Refuse an open server that other machines reach; returns the warning to print for ``--insecure``."""
    if is_loopback(host) or auth:
        return None
    if not insecure:
        raise ParamError(
            f"--host {host} lets other machines reach the server, and without --auth anyone who reaches it can read, "
            "change or delete every run: add --auth (see docs/guide/scaling.md), or --insecure on a "
            "network you trust"
        )
    return (
        f"warning: --insecure: the server on {host} has no authentication; anyone who reaches it can read, change "
        "or delete every run"
    )


def check_security_options(
    allowed_hosts: str | None, cors_origins: str | None, gunicorn_opts: str | None, uvicorn_opts: str | None
) -> None:
    """The combinations ``mlflow server`` refuses (after a slow start), refused here first in one line."""
    if gunicorn_opts is not None and uvicorn_opts is not None:
        raise ParamError("give either --gunicorn-opts or --uvicorn-opts, not both (MLflow runs one server)")
    if gunicorn_opts is not None and (allowed_hosts or cors_origins):
        raise ParamError(
            "--allowed-hosts and --cors-allowed-origins work only under uvicorn (MLflow's security middleware); drop "
            "--gunicorn-opts"
        )
    for name, value in (("--allowed-hosts", allowed_hosts), ("--cors-allowed-origins", cors_origins)):
        if value is not None and (not value.strip() or any(not item.strip() for item in value.split(","))):
            raise ParamError(f"{name} {value!r}: give a comma-separated list without empty items")


@dataclass
class AuthSetup:
    """Environment for the server process and the files whose paths (never contents) are printed."""

    env: dict[str, str] = field(default_factory=dict)
    shown: list[str] = field(default_factory=list)


def _private_file(path: Path, make) -> str:
    """The content of ``path``, created 0600 with ``make()`` if missing; a file others may read is refused."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ParamError(f"{path} can be read by others (mode {mode:o}): chmod 600 {path}")
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return value


def default_auth_dir(backend_store_uri: str) -> Path:
    """Beside a SQLite store; else ``mlruns/`` in the working folder."""
    db = sqlite.database_path(backend_store_uri)
    if db is not None:
        return db.absolute().parent
    return Path("mlruns").absolute()


def auth_database_uri(backend_store_uri: str, folder: Path) -> str:
    """A SQLite file next to a SQLite store; ``<db>_auth`` on the same PostgreSQL server."""
    if backend_store_uri.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        url = make_url(backend_store_uri)
        return url.set(database=f"{url.database}_auth").render_as_string(hide_password=False)
    return f"{sqlite.SCHEME}{folder / AUTH_DB_FILE}"


def ensure_postgres_database(uri: str) -> None:
    """Create the auth database when missing (the store's owner may); one line when that is refused."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    params: dict[str, Any] = {
        "host": url.host,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
    }
    try:
        with psycopg.connect(dbname=url.database, connect_timeout=10, **params):
            return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise ParamError(
                f"auth database {url.render_as_string(hide_password=True)}: {str(exc).strip().splitlines()[0]}"
            ) from None
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=10, **params) as connection:
            connection.execute(f'CREATE DATABASE "{url.database}"')
    except psycopg.Error as exc:
        raise ParamError(
            f"auth database {url.render_as_string(hide_password=True)} does not exist and cannot be created "
            f"({str(exc).strip().splitlines()[0]}); create it (createdb {url.database}) or pass --auth-db-uri"
        ) from None


def prepare_auth(backend_store_uri: str, folder: Path, auth_db_uri: str | None = None) -> AuthSetup:
    """Secrets and ``basic_auth.ini`` for ``mlflow server --app-name basic-auth``."""
    folder.mkdir(parents=True, exist_ok=True)
    setup = AuthSetup()
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    if password is not None:
        setup.shown.append(f"admin password: from ${ADMIN_PASSWORD_ENV} (user {ADMIN_USER})")
    else:
        path = folder / ADMIN_PASSWORD_FILE
        password = _private_file(path, lambda: secrets.token_urlsafe(18))
        setup.shown.append(f"admin password: in {path} (user {ADMIN_USER}; readable by you only)")
    if len(password) < MIN_PASSWORD:
        raise ParamError(f"the admin password (${ADMIN_PASSWORD_ENV}) must have at least {MIN_PASSWORD} characters")
    key = os.environ.get(SECRET_KEY_ENV)
    if key is not None:
        setup.shown.append(f"secret key: from ${SECRET_KEY_ENV}")
    else:
        path = folder / SECRET_KEY_FILE
        key = _private_file(path, lambda: secrets.token_hex(32))
        setup.shown.append(f"secret key: in {path} (readable by you only)")
    database = auth_db_uri or auth_database_uri(backend_store_uri, folder)
    if database.startswith("postgresql"):
        ensure_postgres_database(database)
    config = folder / CONFIG_FILE
    text = (
        f"[mlflow]\ndefault_permission = {DEFAULT_PERMISSION}\ndatabase_uri = {database}\nadmin_username = "
        f"{ADMIN_USER}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        f"auth_cache_ttl_seconds = {AUTH_CACHE_TTL_S}\n"
    )
    descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold the database password
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    from benchmark.uri_check import shown

    setup.shown.append(f"users: {shown(database)} (settings {config})")
    setup.env = {ADMIN_PASSWORD_ENV: password, SECRET_KEY_ENV: key, "MLFLOW_AUTH_CONFIG_PATH": str(config)}
    return setup


def admin_password(folder: Path) -> str:
    """The admin password, for ``bench server user add``: the environment, else the server's file."""
    if os.environ.get(ADMIN_PASSWORD_ENV):
        return os.environ[ADMIN_PASSWORD_ENV]
    path = folder / ADMIN_PASSWORD_FILE
    if not path.is_file():
        raise ParamError(
            f"no admin password: set ${ADMIN_PASSWORD_ENV} or pass --auth-dir (the folder bench server --auth "
            f"printed; {path} does not exist)"
        )
    return path.read_text().strip()
