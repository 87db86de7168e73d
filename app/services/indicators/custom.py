"""Custom indicators: a tenant's saved SELECT over `facts`, validated by a SQL parser, run read-only.

Tenant scoping is done by the database, not by editing the SQL: on Postgres the query runs with
search_path set to a schema whose only relation is the `facts` view filtered by app.current_org, under a role that
can read nothing else, in a READ ONLY transaction with a statement timeout. SQLite (the embedded default) has no
roles or session settings: there `facts` is a CTE over the org's rows and the connection is put in query_only mode.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlglot import exp

from app.core.db import get_engine
from app.core.errors import Conflict, Unprocessable
from app.models import CustomIndicator, Widget
from app.models.base import ExactDecimal
from app.services import freshness
from app.services.sql_guard import parse_sql, render_sql, validate_select
from app.services.tenancy import Tenant, get_scoped_or_404, scoped_select

ROW_CAP = 5_000
STATEMENT_TIMEOUT_MS = 5_000
TENANT_SCHEMA = "painel_tenant"
READER_ROLE = "painel_tenant_reader"
ORG_BIND = "painel_org_id_"
FACT_COLUMNS = ("date", "value", "uf", "category", "attributes", "data_source_id", "batch_id")
_CASTS = {"string": str, "integer": int, "number": float, "boolean": None, "date": date.fromisoformat}


def _dialect(session: Session) -> str:
    return "postgres" if session.get_bind().dialect.name == "postgresql" else "sqlite"


def validate(session: Session, sql: str, parameters: list[dict[str, Any]]) -> str:
    """Parse and check the SQL; every bind must be declared and every declared parameter used."""
    checked = validate_select(sql, dialect=_dialect(session), allowed_tables={"facts"})
    declared = {p["name"] for p in parameters}
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


def list_custom(session: Session, tenant: Tenant) -> list[CustomIndicator]:
    return list(session.scalars(scoped_select(tenant, CustomIndicator).order_by(CustomIndicator.name)))


def get_custom(session: Session, tenant: Tenant, indicator_id: int) -> CustomIndicator:
    return get_scoped_or_404(session, tenant, CustomIndicator, indicator_id, "Custom indicator")


def create_custom(session: Session, tenant: Tenant, data: dict[str, Any]) -> CustomIndicator:
    """Validate and save a custom indicator."""
    validate(session, data["sql"], data["parameters"])
    _unique_name(session, tenant, data["name"])
    indicator = CustomIndicator(organization_id=tenant.org_id, created_by=tenant.user_id, **data)
    session.add(indicator)
    session.flush()
    return indicator


def update_custom(session: Session, tenant: Tenant, indicator_id: int, changes: dict[str, Any]) -> CustomIndicator:
    indicator = get_custom(session, tenant, indicator_id)
    sql = changes.get("sql", indicator.sql)
    parameters = changes.get("parameters", indicator.parameters)
    validate(session, sql, parameters)
    if "name" in changes:
        _unique_name(session, tenant, changes["name"], exclude_id=indicator.id)
    for key, value in changes.items():
        setattr(indicator, key, value)
    session.flush()
    return indicator


def delete_custom(session: Session, tenant: Tenant, indicator_id: int) -> None:
    indicator = get_custom(session, tenant, indicator_id)
    used = session.scalar(scoped_select(tenant, Widget, func.count()).where(Widget.custom_indicator_id == indicator.id))
    if used:
        raise Conflict(f"Custom indicator {indicator.id} is used by {used} widget(s); remove them first", code="in_use")
    session.delete(indicator)
    session.flush()


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
        values[name] = value
    return values


def _sqlite_scoped_sql(sql: str) -> str:
    """Put a `facts` CTE holding only the caller's rows in front of the user's query (SQLite only)."""
    scale = 10**ExactDecimal.SCALE
    cte_sql = (
        f"SELECT date, value / {scale}.0 AS value, uf, category, attributes, data_source_id, batch_id "
        f"FROM main.facts WHERE organization_id = :{ORG_BIND}"
    )
    tree = parse_sql(sql, "sqlite")
    existing = tree.args.get("with_") or tree.args.get("with")
    ours = exp.CTE(this=parse_sql(cte_sql, "sqlite"), alias=exp.TableAlias(this=exp.to_identifier("facts")))
    ctes = [ours] + (list(existing.expressions) if existing else [])
    key = "with_" if "with_" in tree.arg_types else "with"
    tree.set(key, exp.With(expressions=ctes, recursive=bool(existing and existing.args.get("recursive"))))
    return render_sql(tree, "sqlite")


def _reader_role_available(conn) -> bool:
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :r) AND pg_has_role(current_user, :r, 'MEMBER')"
            ),
            {"r": READER_ROLE},
        ).scalar()
    )


def _run_postgres(tenant: Tenant, sql: str, binds: dict[str, Any]):
    # A connection of its own: a fresh READ ONLY transaction, always rolled back.
    with get_engine().connect() as conn:
        trans = conn.begin()
        try:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            conn.execute(
                text(
                    "SELECT set_config('statement_timeout', :ms, true), set_config('app.current_org', :org, "
                    "true), set_config('search_path', :path, true)"
                ),
                {"ms": str(STATEMENT_TIMEOUT_MS), "org": str(tenant.org_id), "path": TENANT_SCHEMA},
            )
            if _reader_role_available(conn):
                conn.exec_driver_sql(f"SET LOCAL ROLE {READER_ROLE}")
            result = conn.execute(text(sql), binds)
            return list(result.keys()), result.fetchmany(ROW_CAP + 1)
        finally:
            trans.rollback()


def run(session: Session, tenant: Tenant, indicator: CustomIndicator, raw_params: dict[str, Any]) -> dict[str, Any]:
    """Execute a custom indicator for the caller's org: columns, rows (capped) and whether it was truncated."""
    binds = bind_values(indicator, raw_params)
    sql = validate(session, indicator.sql, indicator.parameters)
    try:
        if _dialect(session) == "postgres":
            columns, rows = _run_postgres(tenant, sql, binds)
        else:
            columns, rows = _run_sqlite(tenant, sql, binds)
    except DBAPIError as exc:
        raise Unprocessable(_db_error_message(exc), code="query_failed") from None
    truncated = len(rows) > ROW_CAP
    rows = rows[:ROW_CAP]
    _, as_of = freshness.stamp(session, tenant)
    return {
        "columns": columns,
        "rows": [dict(zip(columns, row, strict=True)) for row in rows],
        "truncated": truncated,
        "as_of": as_of.isoformat() if as_of else None,
    }


def _run_sqlite(tenant: Tenant, sql: str, binds: dict[str, Any]):
    with get_engine().connect() as conn:
        raw = conn.connection.driver_connection
        deadline = time.monotonic() + STATEMENT_TIMEOUT_MS / 1000
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
        conn.exec_driver_sql("PRAGMA query_only = ON")
        try:
            result = conn.execute(text(_sqlite_scoped_sql(sql)), {**binds, ORG_BIND: tenant.org_id})
            return list(result.keys()), result.fetchmany(ROW_CAP + 1)
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA query_only = OFF")
            raw.set_progress_handler(None, 0)


def _db_error_message(exc: DBAPIError) -> str:
    # Only the database's first line: never the SQL text or parameters.
    message = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", "")) else ""
    if "statement timeout" in message or "interrupted" in message:
        return f"The query took longer than {STATEMENT_TIMEOUT_MS // 1000} s and was cancelled"
    if "permission denied" in message:
        return "The query reads something other than `facts`"
    return f"The query failed: {message[:300]}" if message else "The query failed"
