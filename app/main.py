"""create_app(): the FastAPI application, its lifespan, routers and error handlers."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from app.core.config import ConfigError, get_settings
from app.core.context import RequestContextMiddleware
from app.core.errors import install_error_handlers
from app.core.limits import BodySizeLimit
from app.routers import (
    audit,
    auth,
    dashboards,
    datasources,
    health,
    indicators,
    indicators_custom,
    ingest,
    jobs,
    members,
    web,
)

logger = logging.getLogger("painel")


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Start the in-process scheduler with the app and stop it (waiting for running jobs) with it."""
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


class PainelAPI(FastAPI):
    """FastAPI with the request context outermost, around Starlette's error middleware, so that even a 500
    is logged with its request id and answered with the X-Request-ID header."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestContextMiddleware(super().build_middleware_stack())


def create_app() -> FastAPI:
    """Build the app; exits with a clear message when the settings are unsafe."""
    try:
        settings = get_settings()
    except ConfigError as exc:
        raise SystemExit(f"painel: {exc}") from None
    app = PainelAPI(
        title="Painel",
        description="Multi-tenant dashboards backend: connect data, get indicators and dashboards.",
        version="0.1.0",
        lifespan=lifespan,
    )
    if settings.CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_credentials=False,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "X-Request-ID"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    install_error_handlers(app)
    for router in (
        health.router,
        auth.router,
        members.router,
        ingest.router,
        indicators_custom.router,
        indicators.router,
        dashboards.router,
        datasources.router,
        jobs.router,
        audit.router,
        web.router,
    ):
        app.include_router(router)
    return app


app = create_app()
