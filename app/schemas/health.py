"""Liveness and readiness answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class LivenessRead(BaseModel):
    status: Literal["ok"] = "ok"


class ReadinessRead(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return self.status == "ok"
