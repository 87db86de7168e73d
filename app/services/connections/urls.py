"""Parsing data source URLs without loading any driver, and masking or splitting their secrets."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url

from app.core.errors import Unprocessable
from app.services.connections.drivers import BACKENDS, SECRET_PARAMS

INVALID_URL = "<invalid url>"
MAX_URL_LENGTH = 4096
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)(?:\+([A-Za-z0-9_]+))?://")
_PATH_LIKE = re.compile(r"^(/|\.{1,2}[/\\]|~|\\|[A-Za-z]:[\\/]|file:)", re.IGNORECASE)
_MULTI_HOST = re.compile(r"^[^:/]+://(?:[^@/]*@)?[^/?@]*,")
_ENCODING_HINT = (
    "percent-encode special characters in the user name and password (@ as %40, : as %3A, / as %2F, % as %25)"
)
_ALLOWED = ", ".join(sorted({name for name in BACKENDS if name != "postgres"}))


def _invalid(
    detail: str = "Could not parse the connection URL; expected dialect+driver://user:password@host:port/database",
) -> Unprocessable:
    # Never echo the raw URL or the parser's message: both can carry the password.
    return Unprocessable(detail, code="invalid_url")


def _misplaced_credentials(url: URL) -> bool:
    """An '@' outside the user-info part means unencoded credentials spilled into the host, database or query
    (where they would be echoed, dropped or stored in clear)."""
    return any(part and "@" in part for part in (url.host, url.database, *url.query))


def _make_url(raw: object) -> URL:
    if not isinstance(raw, str):
        raise _invalid()
    text = raw.strip()
    if not text or len(text) > MAX_URL_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise _invalid()
    try:
        url = make_url(text)
    except Exception:
        if _MULTI_HOST.match(text):
            raise Unprocessable(
                "Multi-host URLs are not allowed; give one host", code="param_not_allowed", extra={"parameter": "host"}
            ) from None
        raise _invalid() from None
    if text.count("@") > 1 or _misplaced_credentials(url):
        raise _invalid(f"The URL does not parse cleanly; {_ENCODING_HINT}")
    return url


def parse_url(raw: object) -> tuple[str, str, URL]:
    """(backend, requested driver, URL); refuses non-server dialects before anything is loaded."""
    if isinstance(raw, str) and _PATH_LIKE.match(raw.strip()):
        raise Unprocessable(
            "File paths are not data sources; give a server URL such as postgresql+psycopg2://user@host:5432/database",
            code="dialect_not_allowed",
        )
    match = _SCHEME.match(raw.strip()) if isinstance(raw, str) else None
    if not match:
        raise _invalid()
    backend, driver = match.group(1).lower(), (match.group(2) or "").lower()
    if backend not in BACKENDS:
        raise Unprocessable(
            f"Dialect '{backend}' is not allowed; use one of: {_ALLOWED}",
            code="dialect_not_allowed",
            extra={"dialect": backend},
        )
    url = _make_url(raw)
    if url.host and "," in url.host:
        raise Unprocessable(
            "Multi-host URLs are not allowed; give one host", code="param_not_allowed", extra={"parameter": "host"}
        )
    return backend, driver, url


def mask_url(raw_url: str) -> str:
    """The URL with its password (and secret parameters) replaced by '***'; never raises."""
    try:
        url = _make_url(raw_url)
        query = {key: ("***" if key.lower() in SECRET_PARAMS else value) for key, value in url.query.items()}
        rendered = url.set(query=query).render_as_string(hide_password=True)
        return rendered.replace("%2A%2A%2A", "***")
    except Exception:
        return INVALID_URL


def _secret_params(url: URL) -> list[str]:
    return [key for key in url.query if key.lower() in SECRET_PARAMS]


def split_secret(raw_url: str) -> tuple[str, str | None]:
    """(URL without its secret, the secret or None): the password, or BigQuery's credentials_base64."""
    url = _make_url(raw_url)
    secret_keys = _secret_params(url)
    if len(secret_keys) + (url.password is not None) > 1:
        raise Unprocessable("The URL carries more than one secret; give only the password", code="invalid_url")
    if secret_keys:
        key = secret_keys[0]
        value = url.query[key]
        if not isinstance(value, str):
            raise _invalid()
        query = {k: v for k, v in url.query.items() if k != key}
        return url.set(query=query).render_as_string(hide_password=False), value
    return url._replace(password=None).render_as_string(hide_password=False), url.password


def same_destination(url_a: str, url_b: str) -> bool:
    """Whether two URLs (without their secrets) reach the same server as the same user in the same way:
    dialect, host, port, database, user name and parameters (a TLS setting changes where a password travels)."""
    try:
        a, b = _make_url(url_a), _make_url(url_b)
    except Unprocessable:
        return False

    def key(url: URL) -> tuple:
        return (
            url.get_backend_name(),
            (url.host or "").lower(),
            url.port,
            url.database,
            url.username,
            sorted((k, str(v)) for k, v in url.query.items()),
        )

    return key(a) == key(b)


def join_secret(url_without_password: str, password: str | None) -> str:
    """Put a secret taken by split_secret back into its URL."""
    url = _make_url(url_without_password)
    if password is None:
        return url.render_as_string(hide_password=False)
    if url.get_backend_name() == "bigquery":
        return url.update_query_dict({"credentials_base64": password}).render_as_string(hide_password=False)
    return url.set(password=password).render_as_string(hide_password=False)
