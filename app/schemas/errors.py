"""The one error shape of the API (RFC 9457 problem details), as the OpenAPI document describes it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProblemFieldError(BaseModel):
    field: str = Field(description="Where the problem is: a dotted path into the body, or a parameter name")
    message: str
    type: str | None = Field(default=None, description="The validator's error type, e.g. missing, string_too_long")


class Problem(BaseModel):
    """Every 4xx and 5xx answer, served as application/problem+json (the request id is also in X-Request-ID)."""

    model_config = ConfigDict(extra="allow")  # some problems add members (e.g. `errors` on a 422)

    type: str = Field(examples=["https://painel.dev/problems/validation-error"])
    title: str = Field(examples=["Invalid request"])
    status: int = Field(examples=[422])
    detail: str = Field(description="What went wrong and what to fix, in words a person can act on")
    code: str = Field(description="Stable machine-readable code, e.g. invalid_token, insufficient_role")
    instance: str | None = Field(default=None, description="The request path")
    request_id: str | None = Field(default=None, description="Quote it when reporting a problem")
    errors: list[ProblemFieldError] | None = Field(default=None, description="One entry per invalid field (422)")
