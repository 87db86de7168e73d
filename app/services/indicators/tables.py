"""Indicator answers as export tables: the rows a spreadsheet gets are the JSON's, column for column."""

from __future__ import annotations

from typing import Any

from app.schemas.indicators import (
    DimensionsRead,
    IndicatorResult,
    KpisRead,
    MonthlyValuesRead,
    TimeSeriesRead,
    TopCategoriesRead,
    UfMapRead,
    YearToDateRead,
)
from app.schemas.indicators_custom import CustomRunRead
from app.services.exports import Column, Table

OTHERS, UNASSIGNED = "(others)", "(unassigned)"


def indicator_table(result: IndicatorResult, title: str | None = None) -> Table:
    """One indicator answer as a table (kpis: one row per KPI; mapa-por-uf and top-categorias end with the rest)."""
    name = title or result.indicator
    if isinstance(result, MonthlyValuesRead):
        columns = [Column("month", "month"), Column("value", "money"), Column("change_pct", "percent")]
        return Table(name, columns, [(i.month, i.value, i.change_pct) for i in result.items])
    if isinstance(result, UfMapRead):
        rows: list[tuple[Any, ...]] = [(i.uf, i.value, i.share_pct) for i in result.items]
        rows.append((UNASSIGNED, result.unassigned, None))
        return Table(name, [Column("uf"), Column("value", "money"), Column("share_pct", "percent")], rows)
    if isinstance(result, KpisRead):
        columns = [Column("kpi"), Column("current", "number"), Column("previous", "number")]
        columns.append(Column("change_pct", "percent"))
        current, previous, change = result.current, result.previous, result.change_pct
        rows = [
            (name_, getattr(current, name_), getattr(previous, name_), getattr(change, name_))
            for name_ in ("total_value", "row_count", "average_value", "distinct_categories")
        ]
        return Table(name, columns, rows)
    if isinstance(result, TopCategoriesRead):
        rows = [(i.category, i.value, i.share_pct) for i in result.items]
        rows.append((OTHERS, result.others, None))
        return Table(name, [Column("category"), Column("value", "money"), Column("share_pct", "percent")], rows)
    if isinstance(result, YearToDateRead):
        columns = [Column("month", "month"), Column("value", "money"), Column("cumulative", "money")]
        return Table(name, columns, [(i.month, i.value, i.cumulative) for i in result.items])
    if isinstance(result, TimeSeriesRead):
        columns = [Column("period"), Column("start", "date"), Column("end", "date"), Column("value", "money")]
        columns.append(Column("row_count", "integer"))
        return Table(name, columns, [(i.period, i.start, i.end, i.value, i.row_count) for i in result.items])
    raise TypeError(f"no table for {type(result).__name__}")  # pragma: no cover - every result type is above


def dimensions_tables(result: DimensionsRead) -> list[Table]:
    """GET /indicators/dimensions: one table per dimension, and the first and last dates."""
    return [
        Table(
            "categories",
            [Column("category"), Column("row_count", "integer")],
            [(c.category, c.row_count) for c in result.categories],
        ),
        Table(
            "ufs",
            [Column("uf"), Column("name"), Column("row_count", "integer")],
            [(u.uf, u.name, u.row_count) for u in result.ufs],
        ),
        Table(
            "data_sources",
            [Column("id", "integer"), Column("name"), Column("type"), Column("row_count", "integer")],
            [(s.id, s.name, s.type, s.row_count) for s in result.data_sources],
        ),
        Table(
            "dates",
            [Column("first_date", "date"), Column("last_date", "date")],
            [(result.first_date, result.last_date)],
        ),
    ]


def custom_table(result: CustomRunRead, title: str) -> Table:
    """A custom indicator's rows; each value typed by what the database returned."""
    columns = [Column(name, "any") for name in result.columns]
    return Table(title, columns, [tuple(row.get(name) for name in result.columns) for row in result.rows])
