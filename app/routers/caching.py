"""HTTP conditional responses: ETag + If-None-Match -> 304."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

CACHE_CONTROL = "private, no-cache"


def conditional_json(
    request: Request, tag: str, produce: Callable[[], Any], cacheable: Callable[[Any], bool] | None = None
) -> Response:
    """304 when the client's copy is current; otherwise the body produced, with its ETag (none, and no-store, when
    `cacheable` says this body is partial and must not be reused)."""
    sent = request.headers.get("if-none-match", "")
    candidates = {t.strip().removeprefix("W/") for t in sent.split(",") if t.strip()}
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL}
    if tag in candidates or "*" in candidates:
        return Response(status_code=304, headers=headers)
    body = produce()
    if cacheable is not None and not cacheable(body):
        headers = {"Cache-Control": "no-store"}
    return JSONResponse(jsonable_encoder(body), headers=headers)
