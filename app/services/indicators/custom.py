"""Custom indicators: a tenant's saved SELECT over `facts`, validated by a SQL parser, run read-only.

Tenant scoping is done by the database, not by editing the SQL: on Postgres the query runs with search_path set to
a schema whose only relation is the `facts` view filtered by app.current_org, under a role that can read nothing
else, in a READ ONLY transaction with a statement timeout. SQLite (the embedded default) has no roles or session
settings: there `facts` is a CTE over the org's rows and the connection is put in query_only mode. How a run is
bounded in time, rows and bytes is in custom_query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import AppError, Conflict, ServiceUnavailable, Unprocessable
from app.models import CustomIndicator, Widget
from app.schemas.common import Page, PageParams
from app.schemas.indicators_custom import (
    CustomIndicatorCreate,
    CustomIndicatorRead,
    CustomIndicatorUpdate,
    CustomRunRead,
)
from app.services import freshness
from app.services.answers import Served
from app.services.exports import ExportOptions, export_tables
from app.services.exports.files import file_stem
from app.services.indicators import custom_query
from app.services.indicators.custom_query import ORG_BIND
from app.services.indicators.tables import custom_table
from app.services.pagination import fetch_page
from app.services.sql_guard import validate_select
from app.services.tenancy import Tenant, get_scoped, get_scoped_or_404, scoped_select

ROW_CAP = 5_000
STATEMENT_TIMEOUT_MS = 5_000
FACT_COLUMNS = ("date", "value", "uf", "category", "attributes", "data_source_id", "batch_id")
_CASTS: dict[str, Callable[[Any], Any]] = {"string": str, "integer": int, "number": float, "date": date.fromisoformat}


def _dialect(session: Session) -> str:
    return "postgres" if session.get_bind().dialect.name == "postgresql" else "sqlite"


def validate(session: Session, sql: str, parameter_names: Iterable[str]) -> str:
    """Parse and check the SQL; every bind must be declared and every declared parameter used."""
    checked = validate_select(sql, dialect=_dialect(session), allowed_tables={"facts"})
    declared = set(parameter_names)
    used = set(checked.binds)
    if ORG_BIND in used:
        raise Unprocessable(f"The bind name :{ORG_BIND} is reserved", code="unsafe_sql")
    if used - declared:
        raise Unprocessable(
            "Undeclared bind parameter(s): "
            + ", ".join(f":{b}" for b in sorted(used - declared))
            + ". Declare each in `parameters` with its type.",
            code="undeclared_parameter",
        )
    if declared - used:
        raise Unprocessable(
            "Declared parameter(s) not used in the SQL: " + ", ".join(sorted(declared - used)), code="unused_parameter"
        )
    return checked.sql


def _unique_name(session: Session, tenant: Tenant, name: str, exclude_id: int | None = None) -> None:
    stmt = scoped_select(tenant, CustomIndicator, CustomIndicator.id).where(CustomIndicator.name == name)
    if exclude_id is not None:
        stmt = stmt.where(CustomIndicator.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"A custom indicator named '{name}' already exists", code="duplicate_name")


def list_custom_indicators(session: Session, tenant: Tenant, page: PageParams) -> Page[CustomIndicatorRead]:
    """The org's custom indicators, by name."""
    stmt = scoped_select(tenant, CustomIndicator).order_by(CustomIndicator.name, CustomIndicator.id)
    return fetch_page(session, stmt, page, CustomIndicatorRead)


def get_custom_indicator(session: Session, tenant: Tenant, indicator_id: int) -> CustomIndicator:
    return get_scoped_or_404(session, tenant, CustomIndicator, indicator_id, "Custom indicator")


def find_custom_indicator(session: Session, tenant: Tenant, indicator_id: int) -> CustomIndicator | None:
    """The caller's custom indicator with this id, or None (another org's is None too)."""
    return get_scoped(session, tenant, CustomIndicator, indicator_id)


def find_custom_indicator_by_name(session: Session, tenant: Tenant, name: str) -> CustomIndicator | None:
    return session.scalar(scoped_select(tenant, CustomIndicator).where(CustomIndicator.name == name))


def create_custom_indicator(session: Session, tenant: Tenant, body: CustomIndicatorCreate) -> CustomIndicator:
    """Validate and save a custom indicator."""
    validate(session, body.sql, (spec.name for spec in body.parameters))
    _unique_name(session, tenant, body.name)
    indicator = CustomIndicator(
        organization_id=tenant.org_id,
        created_by=tenant.user_id,
        name=body.name,
        description=body.description,
        sql=body.sql,
        parameters=[spec.model_dump() for spec in body.parameters],
    )
    session.add(indicator)
    session.flush()
    return indicator


def update_custom_indicator(
    session: Session, tenant: Tenant, indicator_id: int, changes: CustomIndicatorUpdate
) -> CustomIndicator:
    """Apply the fields sent; the SQL and parameters are checked together as they will be saved."""
    indicator = get_custom_indicator(session, tenant, indicator_id)
    sent = changes.model_fields_set
    sql = changes.sql if "sql" in sent else indicator.sql
    parameters = [spec.model_dump() for spec in changes.parameters] if "parameters" in sent else indicator.parameters
    validate(session, sql, (spec["name"] for spec in parameters))
    if "name" in sent:
        _unique_name(session, tenant, changes.name, exclude_id=indicator.id)
        indicator.name = changes.name
    if "description" in sent:
        indicator.description = changes.description
    indicator.sql, indicator.parameters = sql, parameters
    session.flush()
    return indicator


def delete_custom_indicator(session: Session, tenant: Tenant, indicator_id: int) -> None:
    indicator = get_custom_indicator(session, tenant, indicator_id)
    used = session.scalar(scoped_select(tenant, Widget, func.count()).where(Widget.custom_indicator_id == indicator.id))
    if used:
        raise Conflict(f"Custom indicator {indicator.id} is used by {used} widget(s); remove them first", code="in_use")
    session.delete(indicator)
    session.flush()


def _cast(name: str, kind: str, value: Any) -> Any:
    try:
        if kind == "boolean":
            value = value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes"}
        elif kind == "date" and isinstance(value, date):
            pass
        else:
            value = _CASTS[kind](value if kind != "date" else str(value))
    except (TypeError, ValueError):
        raise Unprocessable(f"Parameter '{name}' must be a {kind}", code="invalid_parameter") from None
    if kind == "integer" and not -(2**63) <= value < 2**63:
        raise Unprocessable(f"Parameter '{name}' is out of the 64-bit integer range", code="invalid_parameter")
    return value


def bind_values(indicator: CustomIndicator, raw: dict[str, Any]) -> dict[str, Any]:
    """Typed bind values from request parameters (strings) or widget params (JSON)."""
    values: dict[str, Any] = {}
    for spec in indicator.parameters:
        name, kind = spec["name"], spec["type"]
        value = raw.get(name, spec.get("default"))
        if value is None or value == "":
            if spec.get("required", True):
                raise Unprocessable(f"Parameter '{name}' ({kind}) is required", code="missing_parameter")
            values[name] = None
            continue
        values[name] = _cast(name, kind, value)
    return values


def check_widget_params(indicator: CustomIndicator, params: dict[str, Any], where: str) -> None:
    """Refuse at save time widget params the indicator does not declare or that do not cast to their type."""
    kinds = {spec["name"]: spec["type"] for spec in indicator.parameters}
    undeclared = set(params) - set(kinds)
    if undeclared:
        raise Unprocessable(
            f"{where}: parameter(s) not declared by custom indicator '{indicator.name}': "
            + ", ".join(sorted(undeclared)),
            code="invalid_parameter",
        )
    for name, value in params.items():
        if value is not None and value != "":
            try:
                _cast(name, kinds[name], value)
            except AppError as exc:
                raise Unprocessable(f"{where}: {exc.detail}", code=exc.code) from None


def run_custom_indicator(
    session: Session,
    tenant: Tenant,
    indicator: CustomIndicator,
    raw_params: dict[str, Any],
    *,
    deadline: float | None = None,
) -> CustomRunRead:
    """Execute a custom indicator for the caller's org: columns, rows (capped in number and bytes), truncation.

    deadline (time.monotonic()) shortens the statement timeout when it comes first; a query cut by it raises
    deadline_exceeded instead of query_failed.
    """
    binds = bind_values(indicator, raw_params)
    sql = validate(session, indicator.sql, (spec["name"] for spec in indicator.parameters))
    limits = custom_query.Limits.starting_now(
        ROW_CAP, get_settings().CUSTOM_RESULT_MAX_BYTES, STATEMENT_TIMEOUT_MS, deadline
    )
    execute = custom_query.run_postgres if _dialect(session) == "postgres" else custom_query.run_sqlite
    try:
        result = execute(tenant, sql, binds, limits)
    except custom_query.QueryTimeout:
        raise _timed_out(limits) from None
    except DBAPIError as exc:
        if _is_timeout(exc):
            raise _timed_out(limits) from None
        raise Unprocessable(_db_error_message(exc), code="query_failed") from None
    _, as_of = freshness.stamp(session, tenant)
    return CustomRunRead(
        columns=result.columns,
        rows=[dict(zip(result.columns, row, strict=True)) for row in result.rows],
        truncated=result.truncated is not None,
        truncated_reason=result.truncated,
        as_of=as_of.isoformat() if as_of else None,
    )


def _first_line(exc: DBAPIError) -> str:
    # Only the database's first line: never the SQL text or parameters.
    message = str(getattr(exc, "orig", exc)).strip()
    return message.splitlines()[0] if message else ""


def _is_timeout(exc: DBAPIError) -> bool:
    message = _first_line(exc)
    return "statement timeout" in message or "interrupted" in message


def _timed_out(limits: custom_query.Limits) -> AppError:
    if limits.by_deadline:
        return ServiceUnavailable(
            "The query was cancelled at the dashboard's deadline (DASHBOARD_DATA_DEADLINE_SECONDS)",
            code="deadline_exceeded",
        )
    return Unprocessable(
        f"The query took longer than {STATEMENT_TIMEOUT_MS / 1000:g} s and was cancelled", code="query_failed"
    )


def _db_error_message(exc: DBAPIError) -> str:
    message = _first_line(exc)
    if "permission denied" in message:
        return "The query reads something other than `facts`"
    return f"The query failed: {message[:300]}" if message else "The query failed"


EXPORT_PARAMETERS = {"format", "locale"}  # read as export options on GET .../run, never passed to the SQL


def serve_custom_run(
    session: Session,
    tenant: Tenant,
    indicator_id: int,
    raw_params: dict[str, Any],
    export: ExportOptions | None = None,
    if_none_match: str | None = None,
) -> Served:
    """Run a custom indicator (not cached: its ETag follows the org's data, the definition and the parameters)."""
    indicator = get_custom_indicator(session, tenant, indicator_id)
    params = {k: v for k, v in raw_params.items() if k not in EXPORT_PARAMETERS}
    definition = (indicator.id, indicator.updated_at, indicator.sql, indicator.parameters)
    tag, _ = freshness.data_etag(session, tenant, "custom", definition, params)
    if export is not None:
        tag = freshness.etag(tag, export.format, export.locale)
    if freshness.etag_matches(if_none_match, tag):
        return Served.unchanged(tag)
    result = run_custom_indicator(session, tenant, indicator, params)
    if export is None:
        return Served(tag, body=result.__pydantic_serializer__.to_json(result))
    table = custom_table(result, indicator.name)
    return Served(tag, file=export_tables([table], export, file_stem(indicator.name)))
