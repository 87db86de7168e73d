"""Dashboards: CRUD, duplicate, export/import, and every widget's data in one call."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core.errors import AppError, Forbidden, Unprocessable
from app.models import Dashboard, DataSource, Role, Widget
from app.models.base import utcnow
from app.schemas.common import MAX_ID, Page, PageParams
from app.schemas.dashboards import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    DashboardCreate,
    DashboardDocument,
    DashboardRead,
    DashboardSummaryRead,
    DashboardUpdate,
    DocumentWidget,
    Position,
    WidgetCreate,
    WidgetRead,
)
from app.schemas.indicators_custom import CustomIndicatorCreate, ParameterSpec
from app.services import embed as embed_service
from app.services.indicators import catalog as indicator_service
from app.services.indicators import custom as custom_service
from app.services.indicators.filters import make_filters
from app.services.indicators.ranges import Filters
from app.services.pagination import fetch_page
from app.services.tenancy import Tenant, get_scoped, get_scoped_or_404, scoped_delete, scoped_select

FILTER_PARAMS = {"data_source_id", "category", "uf"}


def _check_widget(session: Session, tenant: Tenant, index: int, widget: WidgetCreate) -> None:
    """Refuse at save time what would fail at read time: unknown indicators, ids and parameters."""
    where = f"widgets[{index}]"
    if widget.indicator is not None:
        key = widget.indicator
        if key not in indicator_service.CATALOG:
            raise Unprocessable(
                f"{where}: unknown indicator '{key}'. Known: {', '.join(indicator_service.CATALOG)}",
                code="unknown_indicator",
            )
        unknown = set(widget.params) - FILTER_PARAMS - indicator_service.CATALOG[key].option_names
        if unknown:
            raise Unprocessable(
                f"{where}: unknown parameter(s) for {key}: {', '.join(sorted(unknown))}", code="invalid_parameter"
            )
        filters = widget_filters(widget.params, where)
        if (
            filters.data_source_id is not None
            and get_scoped(session, tenant, DataSource, filters.data_source_id) is None
        ):
            # Another org's source and a missing one get the same answer.
            raise Unprocessable(f"{where}: unknown data source {filters.data_source_id}", code="unknown_data_source")
        try:
            indicator_service.extra_options(key, widget.params)
        except AppError as exc:
            raise Unprocessable(f"{where}: {exc.detail}", code=exc.code) from None
        return
    indicator = (
        custom_service.find_custom_indicator(session, tenant, widget.custom_indicator_id)
        if widget.custom_indicator_id is not None
        else None
    )
    if indicator is None:
        # Another org's indicator and a missing one get the same answer: no existence oracle.
        raise Unprocessable(f"{where}: unknown custom indicator {widget.custom_indicator_id}", code="unknown_indicator")
    custom_service.check_widget_params(indicator, widget.params, where)


def widget_filters(params: dict[str, Any], where: str = "params") -> Filters:
    """A widget's filters from its params (422 on a bad id, UF or category)."""
    source, category, uf = params.get("data_source_id"), params.get("category"), params.get("uf")
    try:
        if isinstance(source, bool | float):
            raise ValueError
        source = int(source) if source is not None else None
        if source is not None and not 1 <= source <= MAX_ID:
            raise ValueError
    except (TypeError, ValueError):
        raise Unprocessable(
            f"{where}: data_source_id must be a positive integer id", code="invalid_parameter"
        ) from None
    if not isinstance(category, str | None) or not isinstance(uf, str | None):
        raise Unprocessable(f"{where}: category and uf must be strings", code="invalid_parameter")
    return make_filters(source, category, uf, where)


def _replace_widgets(session: Session, tenant: Tenant, dashboard: Dashboard, widgets: list[WidgetCreate]) -> None:
    for index, widget in enumerate(widgets):
        _check_widget(session, tenant, index, widget)
    session.execute(scoped_delete(tenant, Widget).where(Widget.dashboard_id == dashboard.id))
    for index, widget in enumerate(widgets):
        session.add(
            Widget(
                organization_id=tenant.org_id,
                dashboard_id=dashboard.id,
                sort_order=index,
                title=widget.title,
                indicator=widget.indicator,
                custom_indicator_id=widget.custom_indicator_id,
                params=dict(widget.params),
                position=widget.position.model_dump(),
            )
        )
    session.flush()


def widgets_of(session: Session, tenant: Tenant, dashboard_id: int) -> list[Widget]:
    stmt = scoped_select(tenant, Widget).where(Widget.dashboard_id == dashboard_id).order_by(Widget.sort_order)
    return list(session.scalars(stmt))


def _read(session: Session, tenant: Tenant, dashboard: Dashboard) -> DashboardRead:
    summary = DashboardSummaryRead.model_validate(dashboard)
    widgets = [WidgetRead.model_validate(w) for w in widgets_of(session, tenant, dashboard.id)]
    return DashboardRead(**summary.model_dump(), widgets=widgets)


def owned_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> Dashboard:
    """The caller's dashboard, or 404; an embed token reaches only the dashboards it names."""
    embed_service.check_dashboard(tenant, dashboard_id)  # an embed token: its own dashboards only
    dashboard = get_scoped_or_404(session, tenant, Dashboard, dashboard_id, "Dashboard")
    embed_service.check_dashboard(tenant, dashboard_id, dashboard.created_at)  # ...not a newer one with its id
    return dashboard


def get_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> DashboardRead:
    """One dashboard with its widgets."""
    return _read(session, tenant, owned_dashboard(session, tenant, dashboard_id))


def list_dashboards(session: Session, tenant: Tenant, page: PageParams) -> Page[DashboardSummaryRead]:
    """The org's dashboards, by name."""
    stmt = scoped_select(tenant, Dashboard).order_by(Dashboard.name, Dashboard.id)
    return fetch_page(session, stmt, page, DashboardSummaryRead)


def create_dashboard(session: Session, tenant: Tenant, body: DashboardCreate) -> DashboardRead:
    """Save a dashboard and its widgets (every widget checked first)."""
    dashboard = Dashboard(
        organization_id=tenant.org_id, name=body.name, description=body.description, created_by=tenant.user_id
    )
    session.add(dashboard)
    session.flush()
    _replace_widgets(session, tenant, dashboard, body.widgets)
    return _read(session, tenant, dashboard)


def update_dashboard(session: Session, tenant: Tenant, dashboard_id: int, changes: DashboardUpdate) -> DashboardRead:
    """Apply the fields sent; widgets, when sent, replace all widgets."""
    dashboard = owned_dashboard(session, tenant, dashboard_id)
    sent = changes.model_fields_set
    if "name" in sent:
        dashboard.name = changes.name
    if "description" in sent:
        dashboard.description = changes.description
    if changes.widgets is not None:
        _replace_widgets(session, tenant, dashboard, changes.widgets)
    dashboard.updated_at = utcnow()
    session.flush()
    return _read(session, tenant, dashboard)


def delete_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> None:
    """Delete a dashboard and its widgets."""
    session.delete(owned_dashboard(session, tenant, dashboard_id))
    session.flush()


def duplicate_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> DashboardRead:
    """A copy named "<name> (copy)" with the same widgets, checked again as any new dashboard."""
    source = owned_dashboard(session, tenant, dashboard_id)
    # Stored widgets were validated when saved: rebuilt without validation, then checked by _check_widget.
    widgets = [
        WidgetCreate.model_construct(
            title=w.title,
            indicator=w.indicator,
            custom_indicator_id=w.custom_indicator_id,
            params=w.params,
            position=Position.model_construct(None, **w.position),
        )
        for w in widgets_of(session, tenant, source.id)
    ]
    copy = DashboardCreate.model_construct(
        name=f"{source.name} (copy)"[:200], description=source.description, widgets=widgets
    )
    return create_dashboard(session, tenant, copy)


def export_dashboard(session: Session, tenant: Tenant, dashboard_id: int) -> DashboardDocument:
    """A self-contained document: custom indicators travel by definition (SQL and parameters), never by id."""
    dashboard = owned_dashboard(session, tenant, dashboard_id)
    widgets = []
    for widget in widgets_of(session, tenant, dashboard.id):
        custom = None
        if widget.custom_indicator_id is not None:
            indicator = custom_service.get_custom_indicator(session, tenant, widget.custom_indicator_id)
            custom = CustomIndicatorCreate(
                name=indicator.name,
                description=indicator.description,
                sql=indicator.sql,
                parameters=[ParameterSpec.model_validate(spec) for spec in indicator.parameters],
            )
        widgets.append(
            DocumentWidget(
                title=widget.title,
                indicator=widget.indicator,
                custom_indicator=custom,
                params=widget.params,
                position=Position.model_validate(widget.position),
            )
        )
    return DashboardDocument(
        format=EXPORT_FORMAT,
        version=EXPORT_VERSION,
        name=dashboard.name,
        description=dashboard.description,
        widgets=widgets,
    )


def _custom_indicator_for(session: Session, tenant: Tenant, index: int, definition: CustomIndicatorCreate) -> int:
    """The id of the caller's custom indicator named like the definition, created from it (Admin) when missing."""
    existing = custom_service.find_custom_indicator_by_name(session, tenant, definition.name)
    if existing is not None:
        return existing.id
    if not tenant.at_least(Role.ADMIN):
        raise Forbidden(
            f"widgets[{index}] needs custom indicator '{definition.name}', which does not exist here; "
            "only an Admin can create it",
            code="insufficient_role",
        )
    try:
        return custom_service.create_custom_indicator(session, tenant, definition).id
    except Unprocessable as exc:
        raise Unprocessable(f"widgets[{index}].custom_indicator: {exc.detail}", code=exc.code) from None


def import_dashboard(session: Session, tenant: Tenant, document: DashboardDocument) -> DashboardRead:
    """Create a dashboard from an export; custom indicators are matched by name or created (Admin)."""
    widgets = [
        WidgetCreate(
            title=item.title,
            indicator=item.indicator,
            custom_indicator_id=None
            if item.custom_indicator is None
            else _custom_indicator_for(session, tenant, index, item.custom_indicator),
            params=item.params,
            position=item.position,
        )
        for index, item in enumerate(document.widgets)
    ]
    body = DashboardCreate(name=document.name, description=document.description, widgets=widgets)
    return create_dashboard(session, tenant, body)
