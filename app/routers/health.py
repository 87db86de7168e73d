"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.services import health as health_service

router = APIRouter(prefix="/health", tags=["health"])


@router.get("")
def liveness() -> dict:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready")
def readiness() -> JSONResponse:
    """The database is reachable and migrated to head (503 otherwise)."""
    result = health_service.readiness()
    return JSONResponse(result, status_code=200 if result["status"] == "ok" else 503)
