"""Per-request context (request id, org, user) carried by contextvars into logs, errors and the audit trail."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only when it is short and plain, so it cannot forge log lines or headers.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass
class RequestContext:
    request_id: str
    org_id: int | None = None
    user_id: int | None = None


_current: ContextVar[RequestContext | None] = ContextVar("painel_request", default=None)


def current() -> RequestContext | None:
    """The context of the request being served, or None outside a request (jobs, scripts)."""
    return _current.get()


def request_id() -> str | None:
    ctx = _current.get()
    return ctx.request_id if ctx else None


def set_identity(org_id: int | None, user_id: int | None) -> None:
    """Record who the request acts for, once the credential is verified."""
    ctx = _current.get()
    if ctx is not None:
        ctx.org_id, ctx.user_id = org_id, user_id


class RequestContextMiddleware:
    """Pure ASGI middleware: a request id for every request, echoed in the X-Request-ID response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        ctx = RequestContext(request_id=incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex)
        token = _current.set(ctx)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", ctx.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            # Starlette re-raises after its handler has logged the error and sent the 500: stop it here, so
            # the server does not log the same traceback a second time without the request id.
            if not started:
                raise
        finally:
            _current.reset(token)
