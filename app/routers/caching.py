"""HTTP side of read answers: ETag / 304, JSON bodies already serialized, and export files streamed with a
Content-Disposition (RFC 6266: an ASCII fallback plus the UTF-8 name)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.schemas.indicators import ExportFormat, ExportLocale
from app.services.answers import Served
from app.services.exports import ExportFile, ExportOptions

CACHE_CONTROL = "private, no-cache"
JSON_MEDIA_TYPE = "application/json"
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
        "description": "JSON by default; with format=csv or format=xlsx, the same data as a file",
    },
    304: {"description": "The client's copy (If-None-Match) is current"},
}


async def export_options(
    format: Annotated[
        ExportFormat, Query(description="json (default), csv or xlsx: the same data as a spreadsheet file")
    ] = "json",
    locale: Annotated[
        ExportLocale,
        Query(description="CSV conventions: pt-BR (`;`, decimal comma, dd/mm/yyyy) or en (`,`, `.`, ISO dates)"),
    ] = "pt-BR",
) -> ExportOptions | None:
    return None if format == "json" else ExportOptions(format=format, locale=locale)


# `async def`: parsing only; a sync dependency would cost a threadpool hop per request.
ExportDep = Annotated[ExportOptions | None, Depends(export_options)]


async def if_none_match(request: Request) -> str | None:
    return request.headers.get("if-none-match")


IfNoneMatch = Annotated[str | None, Depends(if_none_match)]


def content_disposition(filename: str) -> str:
    """attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name> (RFC 6266 / 5987)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]+", "_", ascii_name).strip() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stream_file(file: ExportFile, headers: dict[str, str] | None = None) -> StreamingResponse:
    all_headers = {"Content-Disposition": content_disposition(file.filename), **(headers or {})}
    return StreamingResponse(file.chunks, media_type=file.media_type, headers=all_headers)


def respond(served: Served) -> Response:
    """304 when the client's copy is current; else the body or file, with its ETag (none, and no-store, for a
    partial answer)."""
    headers = {"ETag": served.etag, "Cache-Control": CACHE_CONTROL} if served.etag else {"Cache-Control": "no-store"}
    if served.not_modified:
        return Response(status_code=304, headers=headers)
    if served.file is not None:
        return stream_file(served.file, headers)
    return Response(served.body, media_type=JSON_MEDIA_TYPE, headers=headers)


def page_or_file(answer: Any) -> Any:
    """A list answer as it is (FastAPI serializes it), or an export file streamed."""
    return stream_file(answer) if isinstance(answer, ExportFile) else answer
