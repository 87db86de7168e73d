"""Indicator requests end to end: validate the range, filters and options, name the answer (cache key and ETag),
answer 304 or from the result cache, else compute it over the rollups; JSON or an export."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.core.db import category_key
from app.core.errors import Unprocessable
from app.models import DataSource
from app.schemas.indicators import (
    CategoryDimension,
    DataSourceDimension,
    DimensionsQuery,
    DimensionsRead,
    IndicatorQuery,
    IndicatorResult,
    UfDimension,
)
from app.services import freshness, result_cache
from app.services.answers import Served
from app.services.exports import ExportOptions, Table, export_tables
from app.services.exports.files import file_stem
from app.services.indicators import catalog, sums
from app.services.indicators.builtin import Context
from app.services.indicators.filters import check_data_source, make_filters
from app.services.indicators.ranges import EARLIEST, LATEST, DateRange, Filters, make_range
from app.services.indicators.tables import dimensions_tables, indicator_table
from app.services.ingest.values.ufs import UF_NAMES
from app.services.tenancy import Tenant, scoped_select


def to_json(model: BaseModel) -> bytes:
    """The model's JSON (aliases such as `from`), serialized by pydantic-core straight to bytes."""
    return model.__pydantic_serializer__.to_json(model, by_alias=True)


def _answer(
    cache_key: result_cache.CacheKey,
    export: ExportOptions | None,
    if_none_match: str | None,
    compute: Any,
    model: type[BaseModel],
    tables: Any,
    stem: str,
) -> Served:
    """304, or the cached or computed JSON body, or that answer as an export file."""
    tag = cache_key.etag(export.format, export.locale) if export else cache_key.etag()
    if freshness.etag_matches(if_none_match, tag):
        return Served.unchanged(tag)
    cache = result_cache.get_cache()
    body = cache.get(cache_key.key)
    result = None
    if body is None:
        result = compute()
        body = to_json(result)
        cache.set(cache_key.key, body)
    if export is None:
        return Served(tag, body=body)
    if result is None:
        result = model.model_validate_json(body)
    return Served(tag, file=export_tables(tables(result), export, stem))


def _indicator_request(key: str, query: IndicatorQuery, options: dict[str, Any] | None):
    """The indicator, its range, filters and parsed options (422 on a bad range, UF or option)."""
    indicator = catalog.get_indicator(key)
    rng = make_range(query.start, query.end)
    filters = make_filters(query.data_source_id, query.category, query.uf)
    parsed = {option.name: option.parse((options or {}).get(option.name)) for option in indicator.options}
    return indicator, rng, filters, parsed


def cached_indicator(
    session: Session,
    tenant: Tenant,
    key: str,
    query: IndicatorQuery,
    options: dict[str, Any] | None = None,
    export: ExportOptions | None = None,
    if_none_match: str | None = None,
) -> Served | None:
    """The answer when it takes no I/O (callable from the event loop): a 304 or the JSON in the in-process cache,
    the org's state having come with the membership. None when serve_indicator must answer: a miss, an export,
    Redis, or a caller whose state was not read yet."""
    state = freshness.remembered(session, tenant)
    cache = result_cache.get_cache()
    if export is not None or state is None or not cache.in_process:
        return None
    _, rng, filters, parsed = _indicator_request(key, query, options)
    cache_key = result_cache.key_for(state, tenant, "indicator", key, rng.start, rng.end, asdict(filters), parsed)
    tag = cache_key.etag()
    if freshness.etag_matches(if_none_match, tag):
        return Served.unchanged(tag)
    body = cache.peek(cache_key.key)
    return Served(tag, body=body) if body is not None else None


def serve_indicator(
    session: Session,
    tenant: Tenant,
    key: str,
    query: IndicatorQuery,
    options: dict[str, Any] | None = None,
    export: ExportOptions | None = None,
    if_none_match: str | None = None,
) -> Served:
    """One ready-made indicator for the caller's org (422 on a bad range, UF, option or data source)."""
    indicator, rng, filters, parsed = _indicator_request(key, query, options)
    state = freshness.state(session, tenant)
    cache_key = result_cache.key_for(state, tenant, "indicator", key, rng.start, rng.end, asdict(filters), parsed)

    def compute() -> BaseModel:
        check_data_source(session, tenant, filters)  # only on a miss: a cached answer's source was checked
        return indicator.compute(Context(session, tenant, key, rng, filters, state, parsed))

    return _answer(
        cache_key,
        export,
        if_none_match,
        compute,
        indicator.model,
        lambda result: [indicator_table(result)],
        file_stem(key, rng.start, rng.end),
    )


def serve_dimensions(
    session: Session,
    tenant: Tenant,
    query: DimensionsQuery,
    export: ExportOptions | None = None,
    if_none_match: str | None = None,
) -> Served:
    """The categories, UFs and data sources with data (with their row counts) and the first and last dates, under the
    optional range and filters."""
    if (query.start is None) != (query.end is None):
        raise Unprocessable("Give both 'from' and 'to', or neither (all the data)", code="invalid_range")
    rng = make_range(query.start, query.end) if query.start and query.end else None
    filters = make_filters(query.data_source_id, query.category, query.uf)
    state = freshness.state(session, tenant)
    span = (rng.start, rng.end) if rng else (None, None)
    cache_key = result_cache.key_for(state, tenant, "dimensions", *span, asdict(filters))

    def compute() -> DimensionsRead:
        check_data_source(session, tenant, filters)
        whole = rng or DateRange(EARLIEST, LATEST)
        groups = sums.totals(session, tenant, {"range": whole}, filters, ("data_source_id", "uf", "category"))
        by_source: Counter[int] = Counter()
        by_uf: Counter[str] = Counter()
        by_category: Counter[str] = Counter()
        for (source_id, uf, category), group in groups["range"].items():
            by_source[source_id] += group.count
            if uf is not None:
                by_uf[uf] += group.count
            if category is not None:
                by_category[category] += group.count
        first, last = sums.day_bounds(session, tenant, whole, filters)
        names = session.execute(
            scoped_select(tenant, DataSource, DataSource.id, DataSource.name, DataSource.type).where(
                DataSource.id.in_(list(by_source))
            )
        ).all()
        return DimensionsRead(
            start=span[0],
            end=span[1],
            as_of=state.as_of_text,
            first_date=first,
            last_date=last,
            categories=[
                CategoryDimension(category=c, row_count=n)
                for c, n in sorted(by_category.items(), key=lambda item: (category_key(item[0]), item[0]))
            ],
            ufs=[UfDimension(uf=uf, name=UF_NAMES[uf], row_count=n) for uf, n in sorted(by_uf.items())],
            data_sources=[
                DataSourceDimension(id=i, name=name, type=kind.value, row_count=by_source[i])
                for i, name, kind in sorted(names, key=lambda row: (row.name, row.id))
            ],
        )

    def tables(result: BaseModel) -> list[Table]:
        assert isinstance(result, DimensionsRead)  # noqa: S101 narrowing for mypy
        return dimensions_tables(result)

    return _answer(cache_key, export, if_none_match, compute, DimensionsRead, tables, file_stem("dimensions", *span))


def compute_indicator(
    session: Session,
    tenant: Tenant,
    key: str,
    rng: DateRange,
    filters: Filters,
    params: dict[str, Any],
    state: freshness.OrgState,
) -> IndicatorResult:
    """One indicator's answer, uncached (a dashboard widget: the dashboard's answer is what gets cached)."""
    indicator = catalog.get_indicator(key)
    parsed = catalog.extra_options(key, params)
    check_data_source(session, tenant, filters)
    return indicator.compute(Context(session, tenant, key, rng, filters, state, parsed))
