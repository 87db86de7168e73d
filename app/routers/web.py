"""The dashboard web app (app/web): the page at `/` and `/embed`, static assets under `/web/`.

A plain static client of the public API: no server-side rendering, no API shortcuts. Its routes stay out of the
OpenAPI document; the page is never cached, assets are revalidated (ours) or cached for a year (versioned vendor
folders), and every answer carries a strict Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import FileResponse, Response

from app.core.errors import NotFound

WEB_ROOT = Path(__file__).resolve().parents[1] / "web"
INDEX = WEB_ROOT / "index.html"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE, NOTICE
}

# Self only: no inline script or style, no eval; API calls go to this origin.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}"
)
APP_HEADERS = {
    "Content-Security-Policy": _CSP.format(ancestors="'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# The embed page exists to be framed by other sites; it shows one dashboard read-only with its own token.
EMBED_HEADERS = {**APP_HEADERS, "Content-Security-Policy": _CSP.format(ancestors="*")}
del EMBED_HEADERS["X-Frame-Options"]

NO_STORE = "no-store"
REVALIDATE = "no-cache"  # our own modules: cached, but checked (ETag) on every load, so a deploy shows at once
IMMUTABLE = "public, max-age=31536000, immutable"  # vendor/<name>-<version>/: a new version is a new path

router = APIRouter(include_in_schema=False)


def _page(headers: dict[str, str]) -> FileResponse:
    return FileResponse(INDEX, media_type=CONTENT_TYPES[".html"], headers={**headers, "Cache-Control": NO_STORE})


@router.get("/")
def index() -> Response:
    """The web app (sign-in, dashboards, uploads, data sources)."""
    return _page(APP_HEADERS)


@router.get("/embed")
def embed() -> Response:
    """One dashboard, read-only, from an embed token (`?token=...&dashboard=ID`, read once by the page)."""
    return _page(EMBED_HEADERS)


def _asset_file(asset_path: str) -> Path:
    """The file under app/web for this path, or NotFound (no traversal, no dotfiles, known types only)."""
    parts = asset_path.split("/")
    if not asset_path or any(not part or part.startswith(".") or "\\" in part for part in parts):
        raise NotFound("Not found")
    path = (WEB_ROOT / asset_path).resolve()
    if not path.is_relative_to(WEB_ROOT) or not path.is_file() or path.suffix not in CONTENT_TYPES:
        raise NotFound("Not found")
    return path


def _accepts_gzip(accept_encoding: str | None) -> bool:
    for item in (accept_encoding or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


@router.get("/web/{asset_path:path}")
def asset(
    asset_path: str,
    if_none_match: Annotated[str | None, Header()] = None,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> Response:
    """A static file of the web app, with its content type and caching policy (gzipped when a `.gz` sibling
    exists and the client accepts it: the refresh script writes one for the large vendored files)."""
    path = _asset_file(asset_path)
    cache = IMMUTABLE if asset_path.startswith("vendor/") else REVALIDATE
    headers = {**APP_HEADERS, "Cache-Control": cache}
    served = path
    compressed = path.with_name(path.name + ".gz")
    if compressed.is_file():
        headers["Vary"] = "Accept-Encoding"
        if _accepts_gzip(accept_encoding):
            served = compressed
            headers["Content-Encoding"] = "gzip"
    # With the stat given, FileResponse sets ETag and Last-Modified at once (compared below).
    response = FileResponse(served, media_type=CONTENT_TYPES[path.suffix], headers=headers, stat_result=served.stat())
    etag = response.headers["etag"]
    if if_none_match and etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers={**headers, "ETag": etag})
    return response
