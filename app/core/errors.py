"""AppError hierarchy and the problem+json (RFC 9457) handlers."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core import context as request_context

logger = logging.getLogger("painel.errors")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """A failure the client can act on; rendered as problem+json."""

    status_code = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra or {}
        self.headers = headers


class BadRequest(AppError):
    status_code, code, title = 400, "bad_request", "Bad request"


class Unauthorized(AppError):
    status_code, code, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str = "Not authenticated", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status_code, code, title = 403, "forbidden", "Forbidden"


class NotFound(AppError):
    status_code, code, title = 404, "not_found", "Not found"


class Conflict(AppError):
    status_code, code, title = 409, "conflict", "Conflict"


class PayloadTooLarge(AppError):
    status_code, code, title = 413, "payload_too_large", "Payload too large"


class UnsupportedMediaType(AppError):
    status_code, code, title = 415, "unsupported_media_type", "Unsupported media type"


class Unprocessable(AppError):
    status_code, code, title = 422, "unprocessable", "Unprocessable content"


class TooManyRequests(AppError):
    status_code, code, title = 429, "rate_limited", "Too many requests"


class ServiceUnavailable(AppError):
    status_code, code, title = 503, "service_unavailable", "Service unavailable"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


def problem(
    status: int,
    title: str,
    detail: str,
    code: str,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build one application/problem+json response."""
    body: dict[str, Any] = {
        "type": f"https://painel.dev/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    if (rid := request_context.request_id()) is not None:
        body["request_id"] = rid
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _describe_validation(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    items = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path", "header", "form")]
        field = ".".join(loc) or "request"
        msg = err.get("msg", "invalid value")
        if err.get("type") == "json_invalid":
            field, msg = "body", "Malformed JSON: " + str(err.get("ctx", {}).get("error", "could not be parsed"))
        items.append({"field": field, "message": msg, "type": err.get("type")})
    detail = "; ".join(f"{item['field']}: {item['message']}" for item in items) or "Invalid request"
    return detail, items


# SQLSTATEs (and SQLite messages) of a transaction that lost a race and may simply be retried.
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def _is_retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    return getattr(orig, "pgcode", None) in _RETRYABLE_SQLSTATES or "database is locked" in str(orig)


def _is_nul_text(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, ValueError) and "NUL (0x00)" in str(exc):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
    return False


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, validation and unexpected ones included, as problem+json."""

    @app.exception_handler(AppError)
    def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return problem(exc.status_code, exc.title, exc.detail, exc.code, request.url.path, exc.extra, exc.headers)

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, items = _describe_validation(list(exc.errors()))
        return problem(422, "Invalid request", detail, "validation_error", request.url.path, {"errors": items})

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return problem(
            exc.status_code,
            code.replace("_", " ").capitalize(),
            detail,
            code,
            request.url.path,
            headers=getattr(exc, "headers", None),
        )

    def _value_error(request: Request, exc: Exception) -> JSONResponse:
        if _is_nul_text(exc):
            # Postgres text cannot hold NUL; the driver refuses it before anything is written.
            return problem(
                422,
                "Invalid request",
                "Text values must not contain NUL (0x00) characters.",
                "nul_character",
                request.url.path,
            )
        return _unexpected(request, exc)

    def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, IntegrityError):
            # Typically a commit that lost a race with another write (a unique name taken meanwhile).
            logger.warning("Integrity error on %s %s", request.method, request.url.path, exc_info=exc)
            return problem(
                409,
                "Conflict",
                "The change conflicts with data written at the same time; nothing was stored. Reload and retry.",
                "write_conflict",
                request.url.path,
            )
        if isinstance(exc, DBAPIError) and _is_retryable(exc):
            logger.warning("Retryable database error on %s %s", request.method, request.url.path, exc_info=exc)
            return problem(
                503,
                "Service unavailable",
                "The database was busy with a concurrent change; nothing was stored. Retry in a moment.",
                "database_busy",
                request.url.path,
                headers={"Retry-After": "1"},
            )
        return _value_error(request, exc)

    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(StatementError, _database_error)

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Handlers run outside the `except` block: pass the exception itself, or the log says "NoneType: None".
        logger.error(
            "Unhandled error on %s %s (request %s)",
            request.method,
            request.url.path,
            request_context.request_id(),
            exc_info=exc,
        )
        return problem(
            500,
            "Internal server error",
            "An unexpected error occurred; quote the request_id when you report it.",
            "internal_error",
            request.url.path,
        )
