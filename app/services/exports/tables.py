"""Tables: what an export holds (typed columns, lazily produced rows), and the cell rules shared by every format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

ColumnKind = Literal["text", "money", "number", "percent", "integer", "date", "month", "any"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"


@dataclass(frozen=True)
class Table:
    """One table of an export: a sheet in XLSX, a section in a multi-table CSV."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]


def neutralize(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP: a leading apostrophe)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
