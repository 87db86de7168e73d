"""create_app(): the FastAPI application, its lifespan, routers and error handlers."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import make_url
from starlette.types import ASGIApp

from app.core import heap, metrics
from app.core.access import AccessLog
from app.core.async_db import CALLER_POOL, AsyncStatementPool
from app.core.config import ConfigError, get_settings
from app.core.context import RequestContextMiddleware
from app.core.errors import install_error_handlers
from app.core.limits import BodySizeLimit
from app.core.logging import configure_logging
from app.routers import (
    api_keys,
    audit,
    auth,
    dashboards,
    datasources,
    docs,
    embed,
    health,
    indicators,
    indicators_custom,
    ingest,
    jobs,
    members,
    web,
)
from app.routers import metrics as metrics_router
from app.routers.deps import CALLER_LIMITER, document_credentials
from app.routers.problems import document_problems

logger = logging.getLogger("painel")


async def _open_caller_pool(app: FastAPI) -> AsyncStatementPool | None:
    """On Postgres (and ASYNC_CALLER on), the asyncio pool of the user-token statement (app/core/async_db.py), in
    app.state for get_caller; it connects in the background."""
    settings = get_settings()
    pool = None
    if settings.ASYNC_CALLER and make_url(settings.DATABASE_URL).get_backend_name() == "postgresql":
        pool = AsyncStatementPool(settings.DATABASE_URL, settings.CALLER_THREADS)
        await pool.open()
    setattr(app.state, CALLER_POOL, pool)  # replaces a previous lifespan's (an app object started twice)
    return pool


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Start the in-process scheduler with the app and stop it (waiting for running jobs and background uploads); a
    serving process settles its garbage collector first (app/core/heap.py) and bounds the threads that resolve
    credentials (app.routers.deps.get_caller)."""
    if get_settings().GC_SETTLE:
        heap.settle()
    setattr(app.state, CALLER_LIMITER, anyio.CapacityLimiter(get_settings().CALLER_THREADS))
    caller_pool = await _open_caller_pool(app)
    scheduler = None
    if get_settings().SCHEDULER_ENABLED:
        from app.cron.scheduler import create_background_scheduler

        scheduler = create_background_scheduler()
        scheduler.start()
        logger.info("scheduler started (tick every %s s)", get_settings().SCHEDULER_TICK_SECONDS)
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        from app.services.ingest import background

        await asyncio.to_thread(background.shutdown)  # a running load finishes (or fails) before the process ends
        if caller_pool is not None:
            setattr(app.state, CALLER_POOL, None)
            await caller_pool.close()
        metrics.process_exiting()


# CORS (when CORS_ORIGINS is set): what a browser app on an allowed origin may send and read.
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "If-None-Match", "X-API-Key", "X-Request-ID", "Prefer"]
CORS_EXPOSED_HEADERS = ["ETag", "X-Request-ID", "Content-Disposition", "Location", "Retry-After"]
CORS_MAX_AGE_SECONDS = 600


class PainelAPI(FastAPI):
    """FastAPI with the request context outermost, then the access record (log and metrics), around Starlette's
    error middleware, so that even a 500 is logged with its request id, counted and answered with the X-Request-ID
    header; CORS sits just inside them, so errors (a 413, even a 500) carry CORS headers too and a browser app can
    read them. Its OpenAPI document describes the errors the API really sends (app/routers/problems.py)."""

    cors_origins: tuple[str, ...] = ()
    _problems_documented: dict[str, Any] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        if self.cors_origins:
            app = CORSMiddleware(
                app,
                allow_origins=self.cors_origins,
                allow_credentials=False,  # credentials travel in headers (Bearer, X-API-Key), never cookies
                allow_methods=CORS_METHODS,
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
                max_age=CORS_MAX_AGE_SECONDS,
            )
        return RequestContextMiddleware(AccessLog(app))

    def openapi(self) -> dict[str, Any]:
        schema = super().openapi()
        if self._problems_documented is not schema:  # once per generated document
            _in_reading_order(schema)
            document_credentials(schema, self.routes)  # first: the problems follow the operations' security
            self._problems_documented = document_problems(schema)
        return schema


# The reading order of the API (the OpenAPI document, /docs).
DOCUMENTED_ROUTERS = (
    health.router,
    auth.router,
    members.router,
    api_keys.router,
    ingest.router,
    indicators_custom.router,
    indicators.router,
    dashboards.router,
    embed.router,
    datasources.router,
    jobs.router,
    audit.router,
    metrics_router.router,
    web.router,
)
# The order routes are matched in: the same routers, the hot read paths first (no path of one router is also
# another's, so the order decides nothing else).
HOT_ROUTERS = (health.router, indicators.router, dashboards.router)
MATCHED_ROUTERS = HOT_ROUTERS + tuple(router for router in DOCUMENTED_ROUTERS if router not in HOT_ROUTERS)


def _in_reading_order(schema: dict[str, Any]) -> dict[str, Any]:
    """The document's paths in DOCUMENTED_ROUTERS' order (the routers are included in MATCHED_ROUTERS' order)."""
    position: dict[str, int] = {}
    for router in DOCUMENTED_ROUTERS:
        for route in router.routes:
            position.setdefault(getattr(route, "path", ""), len(position))
    paths = schema.get("paths", {})
    schema["paths"] = dict(sorted(paths.items(), key=lambda item: position.get(item[0], len(position))))
    return schema


def create_app() -> FastAPI:
    """Build the app; exits with a clear message when the settings are unsafe."""
    try:
        settings = get_settings()
    except ConfigError as exc:
        raise SystemExit(f"painel: {exc}") from None
    configure_logging()
    app = PainelAPI(
        title="Painel",
        description="Multi-tenant dashboards backend: connect data, get indicators and dashboards.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by app/routers/docs.py, with local assets
        redoc_url=None,
    )
    app.cors_origins = tuple(settings.CORS_ORIGINS)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    install_error_handlers(app)
    # Routes are matched in the order they are included, and each router passed costs ~10 µs per request: the hot
    # read paths (the ready-made indicators, dashboards and their data) come right after /health. The OpenAPI
    # document keeps the reading order of DOCUMENTED_ROUTERS.
    for router in MATCHED_ROUTERS:
        app.include_router(router)
    docs.install_docs(app)
    return app


app = create_app()
