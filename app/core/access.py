"""The access record of every request, measured once: its route template, method, status and duration feed the
request metrics and the access log line (logger `painel.access`, with the request context of app.core.context)."""

from __future__ import annotations

import logging
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics

logger = logging.getLogger("painel.access")


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (`/dashboards/{dashboard_id}`), never the raw path."""
    route = scope.get("route")
    if route is None:
        return metrics.UNMATCHED_ROUTE
    return getattr(route, "path_format", None) or getattr(route, "path", None) or metrics.UNMATCHED_ROUTE


class AccessLog:
    """Pure ASGI middleware, inside the request context and outside the error handling, so a 500 is counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500  # when the app fails before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            seconds = perf_counter() - started
            route, method = route_template(scope), scope["method"]
            metrics.observe_request(route, method, status, seconds)
            if logger.isEnabledFor(logging.INFO):
                client, duration_ms = scope.get("client"), round(seconds * 1000, 2)
                logger.info(
                    "%s %s %d %.2f ms",
                    method,
                    scope["path"],
                    status,
                    duration_ms,
                    extra={
                        "route": route,
                        "method": method,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": duration_ms,
                        "client": client[0] if client else None,
                    },
                )
