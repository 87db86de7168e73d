"""Cell values per column kind: the text a CSV holds (per locale) and the typed value an XLSX cell holds."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.services.exports.tables import ColumnKind, neutralize

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MONEY_FORMAT = '"R$" #,##0.00'
PERCENT_FORMAT = "0.00"
DATE_FORMATS = {"pt-BR": "dd/mm/yyyy", "en": "yyyy-mm-dd"}
MONTH_FORMATS = {"pt-BR": "mm/yyyy", "en": "yyyy-mm"}
DATETIME_FORMATS = {"pt-BR": "dd/mm/yyyy hh:mm:ss", "en": "yyyy-mm-dd hh:mm:ss"}


def infer_kind(value: Any) -> ColumnKind:
    """The kind of a value of an untyped column (custom indicator results)."""
    if isinstance(value, bool) or value is None:
        return "text"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, date) or (isinstance(value, str) and _is_iso_date(value)):
        return "date"  # SQLite answers dates as ISO text
    return "text"


def _is_iso_date(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return neutralize(str(value))


def _decimal_text(value: Any, places: int | None, locale: str) -> str:
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    text = f"{number:.{places}f}" if places is not None else format(number, "f")
    return text.replace(".", ",") if locale == "pt-BR" else text


def _month(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(f"{value}-01")


def _csv_date(value: Any, locale: str) -> str:
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M:%S}" if locale == "pt-BR" else value.isoformat()
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day:%d/%m/%Y}" if locale == "pt-BR" else day.isoformat()


def _csv_month(value: Any, locale: str) -> str:
    month = _month(value)
    return f"{month:%m/%Y}" if locale == "pt-BR" else f"{month:%Y-%m}"


_CSV_BY_KIND: dict[str, Callable[[Any, str], str]] = {
    "money": lambda value, locale: _decimal_text(value, 2, locale),
    "percent": lambda value, locale: _decimal_text(value, 2, locale),
    "number": lambda value, locale: _decimal_text(value, None, locale),
    "integer": lambda value, _locale: str(int(value)),
    "month": _csv_month,
    "date": _csv_date,
}


def csv_text(value: Any, kind: ColumnKind, locale: str) -> str:
    """The CSV text of a cell."""
    if value is None:
        return ""
    if kind == "any":
        kind = infer_kind(value)
    convert = _CSV_BY_KIND.get(kind)
    return convert(value, locale) if convert else _text(value)


def _xlsx_date(value: Any, locale: str) -> tuple[Any, str]:
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return naive, DATETIME_FORMATS[locale]
    return (value if isinstance(value, date) else date.fromisoformat(str(value))), DATE_FORMATS[locale]


_XLSX_BY_KIND: dict[str, Callable[[Any, str], tuple[Any, str | None]]] = {
    "money": lambda value, _locale: (float(value), MONEY_FORMAT),
    "percent": lambda value, _locale: (float(value), PERCENT_FORMAT),
    "number": lambda value, _locale: (float(value), None),
    "integer": lambda value, _locale: (int(value), None),
    "month": lambda value, locale: (_month(value), MONTH_FORMATS[locale]),
    "date": _xlsx_date,
}


def xlsx_value(value: Any, kind: ColumnKind, locale: str) -> tuple[Any, str | None]:
    """(the typed cell value, its number format or None)."""
    if value is None:
        return None, None
    if kind == "any":
        kind = infer_kind(value)
    convert = _XLSX_BY_KIND.get(kind)
    return convert(value, locale) if convert else (_text(value), None)
