"""Running a list query one page at a time: the total and the requested slice, as typed items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func
from sqlalchemy.orm import Session

from app.schemas.common import Page, PageParams

R = TypeVar("R", bound=BaseModel)


def fetch_page(
    session: Session,
    stmt: Select[Any],
    params: PageParams,
    read: type[R],
    convert: Callable[[Any], Any] | None = None,
) -> Page[R]:
    """One page of an ordered SELECT, each item validated as `read`: the first column of each row (an ORM
    object), or what `convert` makes of the whole row."""
    total = session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0
    result = session.execute(stmt.limit(params.limit).offset(params.offset))
    rows = result.all() if convert else result.scalars().all()
    items = [read.model_validate(convert(row) if convert else row) for row in rows]
    return Page[read].of(items, total, params)  # type: ignore[valid-type]  # a runtime-parametrized Page
