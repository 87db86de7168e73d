"""Dashboards: CRUD, duplicate, export/import, and every widget's data in one call."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from app.core.errors import AppError, Forbidden, Unprocessable
from app.models import CustomIndicator, Dashboard, Fact, Role, Widget
from app.models.base import utcnow
from app.schemas.common import MAX_ID
from app.services import freshness
from app.services.indicators import catalog as indicator_service
from app.services.indicators import custom as custom_service
from app.services.indicators.ranges import DateRange, Filters, make_range
from app.services.tenancy import Tenant, get_scoped_or_404, scoped_delete, scoped_select

EXPORT_FORMAT = "painel.dashboard"
EXPORT_VERSION = 1
FILTER_PARAMS = {"data_source_id", "category", "uf"}
EXTRA_PARAMS = {"top-categorias": {"limit"}}


def _check_widget(session: Session, tenant: Tenant, index: int, widget: dict[str, Any]) -> None:
    """Refuse at save time what would fail at read time: unknown indicators and parameters."""
    where = f"widgets[{index}]"
    params = widget.get("params") or {}
    if widget.get("indicator") is not None:
        key = widget["indicator"]
        if key not in indicator_service.CATALOG:
            raise Unprocessable(
                f"{where}: unknown indicator '{key}'. Known: {', '.join(indicator_service.CATALOG)}",
                code="unknown_indicator",
            )
        unknown = set(params) - FILTER_PARAMS - EXTRA_PARAMS.get(key, set())
        if unknown:
            raise Unprocessable(
                f"{where}: unknown parameter(s) for {key}: {', '.join(sorted(unknown))}", code="invalid_parameter"
            )
        _filters(params, where)
        indicator_service.extra_options(key, params)
        return
    indicator = session.scalar(
        scoped_select(tenant, CustomIndicator).where(CustomIndicator.id == widget["custom_indicator_id"])
    )
    if indicator is None:
        raise Unprocessable(
            f"{where}: unknown custom indicator {widget['custom_indicator_id']}", code="unknown_indicator"
        )
    declared = {p["name"] for p in indicator.parameters}
    if set(params) - declared:
        raise Unprocessable(
            f"{where}: parameter(s) not declared by custom indicator {indicator.id}: "
            + ", ".join(sorted(set(params) - declared)),
            code="invalid_parameter",
        )


def _filters(params: dict[str, Any], where: str = "params") -> Filters:
    try:
        source = params.get("data_source_id")
        source = int(source) if source is not None else None
        if source is not None and not 1 <= source <= MAX_ID:
            raise ValueError
        return Filters(source, params.get("category"), str(params["uf"]).strip().upper() if params.get("uf") else None)
    except (TypeError, ValueError):
        raise Unprocessable(
            f"{where}: data_source_id must be a positive integer id", code="invalid_parameter"
        ) from None


def _replace_widgets(session: Session, tenant: Tenant, dashboard: Dashboard, widgets: list[dict[str, Any]]) -> None:
    for index, widget in enumerate(widgets):
        _check_widget(session, tenant, index, widget)
    session.execute(scoped_delete(tenant, Widget).where(Widget.dashboard_id == dashboard.id))
    for index, widget in enumerate(widgets):
        session.add(
            Widget(
                organization_id=tenant.org_id,
                dashboard_id=dashboard.id,
                sort_order=index,
                title=widget["title"],
                indicator=widget.get("indicator"),
                custom_indicator_id=widget.get("custom_indicator_id"),
                params=widget.get("params") or {},
                position=widget["position"],
            )
        )
    session.flush()


def widgets_of(session: Session, tenant: Tenant, dashboard_id: int) -> list[Widget]:
    stmt = scoped_select(tenant, Widget).where(Widget.dashboard_id == dashboard_id).order_by(Widget.sort_order)
    return list(session.scalars(stmt))


def _read(session: Session, tenant: Tenant, dashboard: Dashboard) -> dict[str, Any]:
    return {
        "id": dashboard.id,
        "name": dashboard.name,
        "description": dashboard.description,
        "created_at": dashboard.created_at,
        "updated_at": dashboard.updated_at,
        "widgets": widgets_of(session, tenant, dashboard.id),
    }


def get_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> Dashboard:
    return get_scoped_or_404(session, tenant, Dashboard, dashboard_id, "Dashboard")


def read_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> dict[str, Any]:
    return _read(session, tenant, get_dashboard(session, tenant, dashboard_id))


def list_dashboards(session: Session, tenant: Tenant, limit: int, offset: int) -> tuple[list[Dashboard], int]:
    stmt = scoped_select(tenant, Dashboard)
    total = session.scalar(stmt.with_only_columns(func.count()).order_by(None))
    return list(session.scalars(stmt.order_by(Dashboard.name, Dashboard.id).limit(limit).offset(offset))), total


def create_dashboard(session: Session, tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
    dashboard = Dashboard(
        organization_id=tenant.org_id, name=data["name"], description=data.get("description"), created_by=tenant.user_id
    )
    session.add(dashboard)
    session.flush()
    _replace_widgets(session, tenant, dashboard, data.get("widgets") or [])
    return _read(session, tenant, dashboard)


def update_dashboard(session: Session, tenant: Tenant, dashboard_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    dashboard = get_dashboard(session, tenant, dashboard_id)
    for key in ("name", "description"):
        if key in changes:
            setattr(dashboard, key, changes[key])
    if changes.get("widgets") is not None:
        _replace_widgets(session, tenant, dashboard, changes["widgets"])
    dashboard.updated_at = utcnow()
    session.flush()
    return _read(session, tenant, dashboard)


def delete_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> None:
    session.delete(get_dashboard(session, tenant, dashboard_id))
    session.flush()


def _widget_dict(widget: Widget) -> dict[str, Any]:
    return {
        "title": widget.title,
        "indicator": widget.indicator,
        "custom_indicator_id": widget.custom_indicator_id,
        "params": widget.params,
        "position": widget.position,
    }


def duplicate_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> dict[str, Any]:
    source = get_dashboard(session, tenant, dashboard_id)
    widgets = [_widget_dict(w) for w in widgets_of(session, tenant, source.id)]
    return create_dashboard(
        session, tenant, {"name": f"{source.name} (copy)"[:200], "description": source.description, "widgets": widgets}
    )


def export_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> dict[str, Any]:
    """A self-contained JSON document: custom indicators travel with their SQL and parameters."""
    dashboard = get_dashboard(session, tenant, dashboard_id)
    widgets = []
    for widget in widgets_of(session, tenant, dashboard.id):
        item = {"title": widget.title, "params": widget.params, "position": widget.position}
        if widget.indicator:
            item["indicator"] = widget.indicator
        else:
            custom = custom_service.get_custom(session, tenant, widget.custom_indicator_id)
            item["custom_indicator"] = {
                "name": custom.name,
                "description": custom.description,
                "sql": custom.sql,
                "parameters": custom.parameters,
            }
        widgets.append(item)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "name": dashboard.name,
        "description": dashboard.description,
        "widgets": widgets,
    }


def import_dashboard(session: Session, tenant: Tenant, document: dict[str, Any]) -> dict[str, Any]:
    """Create a dashboard from an export; custom indicators are matched by name or created (Admin)."""
    if document.get("format") != EXPORT_FORMAT or document.get("version") != EXPORT_VERSION:
        raise Unprocessable(f"Not a {EXPORT_FORMAT} v{EXPORT_VERSION} document", code="invalid_import")
    widgets = []
    for index, item in enumerate(document.get("widgets") or []):
        item = dict(item)
        custom = item.pop("custom_indicator", None)
        if custom is not None:
            existing = session.scalar(
                scoped_select(tenant, CustomIndicator).where(CustomIndicator.name == custom.get("name"))
            )
            if existing is None:
                if not tenant.at_least(Role.ADMIN):
                    raise Forbidden(
                        f"widgets[{index}] needs custom indicator '{custom.get('name')}', which does "
                        "not exist here; only an Admin can create it",
                        code="insufficient_role",
                    )
                existing = custom_service.create_custom(session, tenant, custom)
            item["custom_indicator_id"] = existing.id
        widgets.append(item)
    return create_dashboard(
        session, tenant, {"name": document.get("name"), "description": document.get("description"), "widgets": widgets}
    )


def default_range(session: Session, tenant: Tenant) -> DateRange:
    """The last 12 months of the org's data (by its latest fact), or of the calendar when it has none."""
    latest = session.scalar(scoped_select(tenant, Fact, func.max(Fact.date))) or date.today()
    if isinstance(latest, str):
        latest = date.fromisoformat(latest)
    first_month = date(latest.year - 1, latest.month, 1) + timedelta(days=32)
    return DateRange(date(first_month.year, first_month.month, 1), latest)


def dashboard_data(
    session: Session, tenant: Tenant, dashboard_id: int, start: date | None, end: date | None
) -> dict[str, Any]:
    """Every widget's data for one range; a failing widget reports its error without failing the others."""
    dashboard = get_dashboard(session, tenant, dashboard_id)
    if bool(start) != bool(end):
        raise Unprocessable("Give both 'from' and 'to', or neither (last 12 months of data)", code="invalid_range")
    rng = make_range(start, end) if start and end else default_range(session, tenant)
    _, as_of = freshness.stamp(session, tenant)
    out = []
    for widget in widgets_of(session, tenant, dashboard.id):
        entry = {
            "id": widget.id,
            "title": widget.title,
            "indicator": widget.indicator,
            "custom_indicator_id": widget.custom_indicator_id,
            "position": widget.position,
        }
        try:
            if widget.indicator:
                entry["data"] = indicator_service.compute(
                    session, tenant, widget.indicator, rng, _filters(widget.params), widget.params, as_of=as_of
                )
            else:
                custom = custom_service.get_custom(session, tenant, widget.custom_indicator_id)
                params = {"from": rng.start, "to": rng.end, "start": rng.start, "end": rng.end, **widget.params}
                declared = {p["name"] for p in custom.parameters}
                entry["data"] = custom_service.run(
                    session, tenant, custom, {k: v for k, v in params.items() if k in declared}
                )
        except AppError as exc:
            entry["error"] = {"code": exc.code, "detail": exc.detail}
        out.append(entry)
    return {
        "dashboard_id": dashboard.id,
        "from": rng.start.isoformat(),
        "to": rng.end.isoformat(),
        "as_of": as_of.isoformat() if as_of else None,
        "widgets": out,
    }


def data_etag(session: Session, tenant: Tenant, dashboard_id: int, start: date | None, end: date | None) -> str:
    dashboard = get_dashboard(session, tenant, dashboard_id)
    tag, _ = freshness.data_etag(session, tenant, "dashboard", dashboard.id, dashboard.updated_at, str(start), str(end))
    return tag
