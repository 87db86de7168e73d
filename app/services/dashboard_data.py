"""Every widget's data of a dashboard in one call: cached per version of the org's data and definitions (a hit
reads no dashboard), within a deadline, as JSON or an export (XLSX: one sheet per widget; CSV: one section per
widget)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import AppError, NotFound, Unprocessable
from app.models import CustomIndicator, Dashboard, Widget
from app.schemas.dashboards import DEADLINE_EXCEEDED, DashboardDataRead, Position, WidgetDataRead, WidgetError
from app.schemas.indicators_custom import CustomRunRead
from app.services import embed as embed_service
from app.services import freshness, result_cache
from app.services.answers import Served
from app.services.dashboards import widget_filters
from app.services.exports import Column, ExportOptions, Table, export_tables
from app.services.exports.files import file_stem
from app.services.freshness import OrgState
from app.services.indicators import custom as custom_service
from app.services.indicators import serving, sums
from app.services.indicators.ranges import DateRange, Filters, make_range
from app.services.indicators.tables import custom_table, indicator_table
from app.services.result_cache import CacheKey
from app.services.tenancy import Tenant, scoped_select


def default_range(session: Session, tenant: Tenant, state: OrgState) -> DateRange:
    """The last 12 months of the org's data (by its latest day), or up to today in the org's time zone without data."""
    _, latest = sums.day_bounds(session, tenant, DateRange(date(1900, 1, 1), date(2199, 12, 31)), Filters())
    latest = latest or state.today()
    first_month = date(latest.year - 1, latest.month, 1) + timedelta(days=32)
    return DateRange(date(first_month.year, first_month.month, 1), latest)


def _dashboard_with_widgets(session: Session, tenant: Tenant, dashboard_id: int) -> tuple[Dashboard, list[Any]]:
    """The dashboard (404 when it is not the caller's) and its widgets in order, each with its custom indicator's
    SQL and parameters (None for built-ins): one statement."""
    stmt = (
        scoped_select(tenant, Dashboard, Dashboard, Widget, CustomIndicator.sql, CustomIndicator.parameters)
        .outerjoin(
            Widget, and_(Widget.dashboard_id == Dashboard.id, Widget.organization_id == Dashboard.organization_id)
        )
        .outerjoin(
            CustomIndicator,
            and_(
                CustomIndicator.id == Widget.custom_indicator_id,
                CustomIndicator.organization_id == Widget.organization_id,
            ),
        )
        .where(Dashboard.id == dashboard_id)
        .order_by(Widget.sort_order)
    )
    embed_service.check_dashboard(tenant, dashboard_id)  # an embed token: its own dashboards only
    rows = session.execute(stmt).all()
    if not rows:
        raise NotFound(f"Dashboard {dashboard_id} not found")
    embed_service.check_dashboard(tenant, dashboard_id, rows[0][0].created_at)  # ...not a newer one with its id
    return rows[0][0], [row[1:] for row in rows if row[1] is not None]


def _widget_data(
    session: Session, tenant: Tenant, widget: Widget, rng: DateRange, state: OrgState, deadline: float
) -> Any:
    """The widget's indicator answer, as the indicator's own endpoint would give it."""
    if widget.indicator:
        filters = embed_service.locked_filters(tenant.embed, widget_filters(widget.params))  # an embed's locks win
        return serving.compute_indicator(session, tenant, widget.indicator, rng, filters, widget.params, state)
    if widget.custom_indicator_id is None:  # pragma: no cover - a widget has an indicator or a custom one
        raise RuntimeError(f"widget {widget.id} has no indicator")
    custom = custom_service.get_custom_indicator(session, tenant, widget.custom_indicator_id)
    declared = {spec["name"] for spec in custom.parameters}
    params = {"from": rng.start, "to": rng.end, "start": rng.start, "end": rng.end, **widget.params}
    params = embed_service.locked_custom_params(tenant.embed, declared, params, rng)  # an embed's locks win
    return custom_service.run_custom_indicator(
        session, tenant, custom, {k: v for k, v in params.items() if k in declared}, deadline=deadline
    )


def _compute(
    session: Session, tenant: Tenant, dashboard: Dashboard, widgets: list[Widget], rng: DateRange, state: OrgState
) -> DashboardDataRead:
    """Every widget's data within DASHBOARD_DATA_DEADLINE_SECONDS; a failing or late widget reports its own error
    without failing the others."""
    seconds = get_settings().DASHBOARD_DATA_DEADLINE_SECONDS
    deadline = time.monotonic() + seconds
    out = []
    for widget in widgets:
        entry = WidgetDataRead(
            id=widget.id,
            title=widget.title,
            indicator=widget.indicator,
            custom_indicator_id=widget.custom_indicator_id,
            position=Position.model_validate(widget.position),
        )
        if time.monotonic() >= deadline:
            entry.error = WidgetError(
                code=DEADLINE_EXCEEDED,
                detail=f"Not run: the dashboard's {seconds:g} s deadline passed before this widget could start",
            )
        else:
            try:
                entry.data = _widget_data(session, tenant, widget, rng, state, deadline)
            except AppError as exc:
                entry.error = WidgetError(code=exc.code, detail=exc.detail)
        out.append(entry)
    return DashboardDataRead(
        dashboard_id=dashboard.id, start=rng.start, end=rng.end, as_of=state.as_of_text, widgets=out
    )


def _tables(data: DashboardDataRead) -> list[Table]:
    tables = []
    for widget in data.widgets:
        title = widget.title
        if widget.data is None:
            error = widget.error or WidgetError(code="no_data", detail="No data")
            tables.append(Table(title, [Column("error"), Column("detail")], [(error.code, error.detail)]))
        elif isinstance(widget.data, CustomRunRead):
            tables.append(custom_table(widget.data, title))
        else:
            tables.append(indicator_table(widget.data, title))
    return tables


def _asked_range(tenant: Tenant, start: date | None, end: date | None) -> DateRange | None:
    """The range the request asks for, clamped inside an embed token's locked range (the locked range itself when
    none is asked); None for the default (the last 12 months of data)."""
    if bool(start) != bool(end):
        raise Unprocessable("Give both 'from' and 'to', or neither (last 12 months of data)", code="invalid_range")
    if start and end:
        return embed_service.locked_range(tenant.embed, make_range(start, end), asked=True)
    if tenant.embed is not None and tenant.embed.start is not None and tenant.embed.end is not None:
        return DateRange(tenant.embed.start, tenant.embed.end)
    return None


def _cache_key(state: OrgState, tenant: Tenant, dashboard_id: int, asked: DateRange | None) -> CacheKey:
    """The org's data version and settings, the caller's scope, the dashboard, the version of every dashboard,
    widget and custom indicator definition of the org (bumped by triggers on each write) and the range. Without a
    range the answer follows the data (its version is in the key) or, with no data, today."""
    span = (asked.start, asked.end) if asked else ("default", state.today())
    return result_cache.key_for(state, tenant, "dashboard", dashboard_id, state.dashboards_version, *span)


def _cached(
    lookup: Callable[[str], bytes | None],
    state: OrgState,
    tenant: Tenant,
    dashboard_id: int,
    start: date | None,
    end: date | None,
    if_none_match: str | None,
) -> Served | None:
    """The JSON answer cached under this request's key (`lookup`: the cache's get or peek), or a 304 for it; None
    without one. Only an answer computed for this very key is served, so the dashboard existed in the caller's
    org at this version of the definitions (a delete bumps it): no dashboard read is needed. Not for an embed
    token: tokens of one scope share entries, and each must check that the dashboard is not newer than itself
    (SQLite may give a new dashboard a deleted one's id), which needs the dashboard's row."""
    if tenant.embed is not None:
        return None
    try:  # a bad range: the full path says so, after the dashboard's 404
        asked = _asked_range(tenant, start, end)
    except AppError:
        return None
    cache_key = _cache_key(state, tenant, dashboard_id, asked)
    body = lookup(cache_key.key)
    if body is None:
        return None
    tag = cache_key.etag()
    return Served.unchanged(tag) if freshness.etag_matches(if_none_match, tag) else Served(tag, body=body)


def cached_dashboard_data(
    session: Session,
    tenant: Tenant,
    dashboard_id: int,
    start: date | None,
    end: date | None,
    export: ExportOptions | None = None,
    if_none_match: str | None = None,
) -> Served | None:
    """The answer when it takes no I/O (callable from the event loop): the JSON in the in-process cache, or a 304
    for it. None when serve_dashboard_data must answer: a miss, an export, Redis, or a caller whose org state was
    not read yet."""
    state = freshness.remembered(session, tenant)
    cache = result_cache.get_cache()
    if export is not None or state is None or not cache.in_process:
        return None
    return _cached(cache.peek, state, tenant, dashboard_id, start, end, if_none_match)


def serve_dashboard_data(
    session: Session,
    tenant: Tenant,
    dashboard_id: int,
    start: date | None,
    end: date | None,
    export: ExportOptions | None = None,
    if_none_match: str | None = None,
) -> Served:
    """The dashboard's data for one range (default: the last 12 months of data), from the result cache when its
    key matches (`_cache_key`; with Redis too, a hit reads no dashboard). A partial answer (a widget past the
    deadline) is never cached and carries no ETag."""
    # The versions first, then the definitions: an answer is then never older than the versions it is cached
    # under (each statement sees the data committed when it starts).
    state = freshness.state(session, tenant)
    cache = result_cache.get_cache()
    hit = None if export else _cached(cache.get, state, tenant, dashboard_id, start, end, if_none_match)
    if hit is not None:
        return hit
    dashboard, rows = _dashboard_with_widgets(session, tenant, dashboard_id)
    asked = _asked_range(tenant, start, end)
    widgets = [row[0] for row in rows]
    cache_key = _cache_key(state, tenant, dashboard.id, asked)
    tag = cache_key.etag(export.format, export.locale) if export else cache_key.etag()
    if freshness.etag_matches(if_none_match, tag):
        return Served.unchanged(tag)
    # Exports compute afresh: custom indicator rows keep their database types (numbers, dates) for the cells.
    rng = asked or default_range(session, tenant, state)
    data = _compute(session, tenant, dashboard, widgets, rng, state)
    served_tag: str | None = tag if data.complete else None  # a partial answer is neither cached nor tagged
    body = serving.to_json(data)
    if served_tag is not None:
        cache.set(cache_key.key, body)
    if export is None:
        return Served(served_tag, body=body)
    stem = file_stem(dashboard.name, data.start, data.end)
    return Served(served_tag, file=export_tables(_tables(data), export, stem))
