"""Credentials for a ``bench server --auth``: checked once, before any work, and never shown.

Clients sign in the way MLflow's own client does: ``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD``, else ``~/.mlflow/credentials`` (section ``[mlflow]``, keys
``mlflow_tracking_username`` and ``mlflow_tracking_password``). A ``http://USER:PASSWORD@HOST`` URI is
taken apart: the user and password move into those variables (so worker processes and Dask's local
workers inherit them) and only ``http://HOST`` is used, printed or logged from then on.
"""

from __future__ import annotations

import base64
import os
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from benchmark.params import ParamError
from benchmark.redaction import redact

USER_ENV, PASSWORD_ENV = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"
HOW = f"set {USER_ENV} and {PASSWORD_ENV} (or ~/.mlflow/credentials)"
_server: list[str] = []  # the server of the command running now, to name it in a refusal


def adopt_userinfo(uri: str) -> str:
    """``http://USER:PASSWORD@HOST:PORT`` -> ``http://HOST:PORT``, with the credentials moved to the environment."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
        return uri
    from urllib.parse import unquote

    if parts.username:
        os.environ[USER_ENV] = unquote(parts.username)
    if parts.password is not None:
        os.environ[PASSWORD_ENV] = unquote(parts.password)
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _credentials() -> tuple[str | None, str | None, str]:
    """(user, password, where they come from), the way MLflow's client reads them."""
    import configparser

    section: dict = {}
    path = os.path.expanduser("~/.mlflow/credentials")
    if os.path.exists(path):  # read as mlflow.utils.credentials does, without importing MLflow (a fast refusal)
        config = configparser.ConfigParser()
        config.read(path)
        section = dict(config["mlflow"]) if "mlflow" in config else {}
    user = os.environ.get(USER_ENV) or section.get(USER_ENV.lower())
    password = os.environ.get(PASSWORD_ENV) or section.get(PASSWORD_ENV.lower())
    where = "$" + USER_ENV if os.environ.get(USER_ENV) else "~/.mlflow/credentials"
    return user, password, where


def check_access(uri: str, timeout_s: float) -> None:
    """One authenticated request: refused credentials are one line (exit 2) now, not a traceback later."""
    _server[:] = [uri]
    user, password, where = _credentials()
    request = urllib.request.Request(uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1")
    if user and password:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s):
            return
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            if not (user and password):
                raise ParamError(f"tracking server {redact(uri)} asks for a user name and password: {HOW}") from None
            raise ParamError(
                f"tracking server {redact(uri)} refused user {user!r} (wrong user name or password, from {where}): "
                f"{HOW} to an account on it"
            ) from None
        if exc.code == 403:  # MLflow's security middleware answers 403 to a Host header it does not allow, too
            said = exc.read(300).decode("utf-8", "replace").strip().splitlines()[:1]
            raise ParamError(
                f"tracking server {redact(uri)} answered 403 ({said[0] if said else 'forbidden'}) for user {user!r}: "
                "ask its admin "
                "(bench server user add; --allowed-hosts for the host name you use)"
            ) from None
        return  # another answer (an old server without this endpoint ...): the commands' own errors say more
    except (urllib.error.URLError, OSError):
        return  # /health answered a moment ago; a network hiccup is the commands' business


def refusal(exc: BaseException | None) -> str | None:
    """One line for an MLflow error that says the server refused this user (401/403), else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        code = getattr(exc, "error_code", None)
        text = str(exc)
        server = redact(_server[0]) if _server else "the tracking server"
        user = os.environ.get(USER_ENV) or _file_user() or "(none)"
        if code == "PERMISSION_DENIED" or "error code 403" in text:
            return (
                f"tracking server {server} does not let user {user!r} write here (it has READ access only?): "
                "ask its admin for EDIT (bench server user add NAME --permission EDIT); bench report works with READ"
            )
        if code == "UNAUTHENTICATED" or "error code 401" in text:
            return f"tracking server {server} refused user {user!r}: {HOW}"
        exc = exc.__cause__ or exc.__context__
    return None


def _file_user() -> str | None:
    try:
        return _credentials()[0]
    except Exception:
        return None
