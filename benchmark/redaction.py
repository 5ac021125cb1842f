"""The one redaction of URLs: every URL that is printed, logged or stored as a tag goes through :func:`redact`.

It hides the userinfo password (``user:***@host``) and the values of password-like query parameters
(``?password=***``), and fails closed: a URL it cannot take apart for sure (no scheme, a port that is not
a number, an ``@`` after the host, which a password holding ``/``, ``?`` or ``#`` produces) is shown as
``scheme://host`` only, never whole. :func:`check_url` makes such a URL an input error (exit 2) for the
options that take one (``--tracking-uri``, ``--storage``, ``--backend-store-uri``, ``--scheduler``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

HIDDEN = "***"
SECRET_KEYS = (
    "password",
    "passwd",
    "pass",
    "pwd",
    "token",
    "secret",
    "apikey",
    "api_key",
    "key",
    "credential",
    "auth",
    "signature",
    "sig",
    "sslpassword",
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def _secret_key(name: str) -> bool:
    name = name.lower().replace("-", "_")
    return any(part in name for part in SECRET_KEYS)


def problem(url: str) -> str | None:
    """Why ``url`` cannot be taken apart for sure (None when it can)."""
    if "://" not in url:
        return "it has no scheme:// part"
    scheme = url.split("://", 1)[0]
    if not _SCHEME.match(scheme):
        return f"its scheme {scheme!r} is not a URL scheme"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises for a port that is not a number)
    except ValueError as exc:
        return "its port is not a number" if "port" in str(exc).lower() else f"it cannot be parsed ({exc})"
    if parts.netloc and "@" in url.split("://", 1)[1][len(parts.netloc) :]:
        return "it has an '@' after the host (a password with '/', '?' or '#' must be percent-encoded)"
    return None


def _host_only(url: str) -> str:
    """``scheme://host[:port]`` of a URL that cannot be parsed: what follows the last '@' of the part
    after the scheme, up to the first '/', '?' or '#'; nothing of a password can remain."""
    scheme, _, rest = url.partition("://") if "://" in url else ("", "", url)
    rest = rest.rsplit("@", 1)[-1] if "@" in rest else rest
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = re.sub(r":[^0-9].*$|:$", "", host)  # a "port" that is not a number may be a password's tail
    return f"{scheme.strip() or '?'}://{host}/{HIDDEN}" if scheme else f"{HIDDEN}"


def redact(url: str | None) -> str:
    """``url`` with its password and password-like query values hidden; fails closed (see the module)."""
    if not url:
        return url or ""
    if problem(url) is not None:
        return _host_only(url)
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:{HIDDEN}@{host}" if ":" in userinfo else netloc
    query = (
        "&".join(
            f"{key}={HIDDEN}" if sep and _secret_key(key) else f"{key}{sep}{value}"
            for key, sep, value in (item.partition("=") for item in parts.query.split("&"))
        )
        if parts.query
        else ""
    )
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    if parts.query:
        shown += f"?{query}"
    if parts.fragment:
        shown += f"#{HIDDEN}"
    return shown


def check_url(url: str, option: str) -> str:
    """``url`` unchanged, or a one-line input error (``ParamError``, exit 2) naming ``option``, shown redacted."""
    from benchmark.params import ParamError

    why = problem(url)
    if why is not None:
        raise ParamError(f"{option} {redact(url)!r} is not a URL this can use: {why}")
    return url


def secrets_in(url: str) -> list[str]:
    """The secret values ``url`` carries (userinfo password, password-like query values), longest first."""
    from urllib.parse import unquote

    found = []
    rest = url.split("://", 1)[-1]
    if "@" in rest:
        userinfo = rest.rsplit("@", 1)[0]
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
    query = url.split("?", 1)[1] if "?" in url else ""
    for item in query.split("&"):
        key, sep, value = item.partition("=")
        if sep and value and _secret_key(key):
            found.append(value.split("#", 1)[0])
    found += [unquote(s) for s in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def scrub(text: str, *urls: str) -> str:
    """``text`` (an error message from a driver) with every secret of ``urls`` replaced by ``***``."""
    for url in urls:
        for secret in secrets_in(url or ""):
            text = text.replace(secret, HIDDEN)
    return text
