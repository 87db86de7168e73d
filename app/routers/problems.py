"""The error answers in the OpenAPI document: every 4xx/5xx is a Problem served as application/problem+json.

Routes declare the errors only they can answer (`responses=problem_responses(429)`); the ones that follow from
how every route works are added here by rule, so a new route is documented without listing them:
- 401 and 403 on every operation that takes a credential (missing/invalid/expired credential; role or credential
  kind not allowed);
- 404 on every operation with a path parameter (missing, or another org's: the same answer);
- 409 on every authenticated write (a commit that lost a race: `write_conflict`);
- 413 on every operation with a body (MAX_UPLOAD_MB, chunked bodies too);
- 422 on every operation with parameters or a body, replacing FastAPI's HTTPValidationError (which is not what
  the API answers).
"""

from __future__ import annotations

from typing import Any

from app.core.errors import PROBLEM_JSON
from app.schemas.errors import Problem

DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated: the credential is missing, invalid, expired or revoked",
    403: "Forbidden: the caller's role or kind of credential (API key, embed token) may not do this",
    404: "Not found (another organization's ids answer the same)",
    409: "Conflict: the change collides with existing data or a concurrent write; nothing was stored",
    413: "The body is larger than MAX_UPLOAD_MB",
    415: "The uploaded file is not of the expected type",
    422: "Invalid request: `errors` lists each invalid field",
    429: "Too many attempts: retry after the Retry-After header's seconds",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
_REF = "#/components/schemas/Problem"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: these statuses answer a Problem."""
    return {status: {"model": Problem, "description": DESCRIPTIONS[status]} for status in statuses}


def _problem_response(status: int) -> dict[str, Any]:
    return {"description": DESCRIPTIONS.get(status, "Error"), "content": {PROBLEM_JSON: {"schema": {"$ref": _REF}}}}


def _as_problem(response: dict[str, Any]) -> dict[str, Any]:
    # FastAPI puts a route's declared error models under application/json: the API answers problem+json.
    return {**response, "content": {PROBLEM_JSON: {"schema": {"$ref": _REF}}}}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a generated OpenAPI document so its error answers are the Problems the API really sends."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in WRITE_METHODS | {"get", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in list(responses):
                if status == "422":  # FastAPI's HTTPValidationError: not what the API answers
                    responses[status] = _problem_response(422)
                elif status[0] in "45":
                    responses[status] = _as_problem(responses[status])
            rules = {
                401: bool(operation.get("security")),
                403: bool(operation.get("security")),
                404: "{" in path,
                409: bool(operation.get("security")) and method in WRITE_METHODS,
                413: "requestBody" in operation,
                422: bool(operation.get("parameters")) or "requestBody" in operation,
            }
            for status, applies in rules.items():
                if applies and str(status) not in responses:
                    responses[str(status)] = _problem_response(status)
            operation["responses"] = dict(sorted(responses.items()))
    return schema
