"""Shared schema pieces: ORM-readable models and the one page shape of every list endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

T = TypeVar("T")

MAX_ID = 2**31 - 1  # ids are 32-bit: a larger one is a 422, not a database overflow

# The default of an optional field in an update body: defaults are not validated, so an omitted field stays unset
# (see model_fields_set) while an explicit null is refused by the field's own type.
NOT_SENT: Any = None


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


@dataclass(frozen=True)
class PageParams:
    """Which slice of a list the client asked for (`limit`, `offset` query parameters)."""

    limit: int
    offset: int


class Page(BaseModel, Generic[T]):
    """A slice of a list: the items, how many there are in all, and the slice asked for."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: list[T], total: int, params: PageParams) -> Page[T]:
        return cls(items=items, total=total, limit=params.limit, offset=params.offset)

    @classmethod
    def whole(cls, items: list[T]) -> Page[T]:
        """A list that is always answered whole (small, bounded collections)."""
        return cls(items=items, total=len(items), limit=len(items), offset=0)


MAX_PARAM_TEXT = 1000


def _scalar(value: Any) -> Any:
    # One clear error instead of one per member of the union below.
    if isinstance(value, str) and len(value) > MAX_PARAM_TEXT:
        raise ValueError(f"a parameter value has at most {MAX_PARAM_TEXT} characters")
    if value is not None and not isinstance(value, bool | int | float | str):
        raise ValueError("a parameter value is a string, a number, a boolean or null")
    return value


ParamName = Annotated[str, Field(min_length=1, max_length=63)]
ParamValue = Annotated[
    bool | int | float | Annotated[str, Field(max_length=MAX_PARAM_TEXT)] | None, BeforeValidator(_scalar)
]
