"""The per-skeleton and per-value decisions of the Python rules, as rows of small lookup tables for SQL.

Each function takes the distinct strings SQL found and answers what the rule in `values/` decides for them:
where the digits of a number or the fields of a date sit (1-based substrings), or the cleaned value.
"""

from __future__ import annotations

from typing import Any

from app.services.ingest import values
from app.services.ingest.values._cells import _MAX_LEN, _span
from app.services.ingest.values.dates import _ISO_LABELS, _date_layout
from app.services.ingest.values.numbers import _number_from_text, _number_layout, _NumberLayout
from app.services.ingest.values.text import clean_text
from app.services.ingest.values.ufs import _uf

MAX_SKELETON = _MAX_LEN  # longer cells skip the skeletons, as in the Python path
DATE_ATTEMPTS = 3  # the column's format, then the two ISO formats
DATE_FIELDS = ("y", "yy", "m", "d", "H", "M", "S")  # the regex groups of values.dates
FIELD_COLUMNS = {"y": "y", "yy": "yy", "m": "mo", "d": "d", "H": "hh", "M": "mi", "S": "ss"}  # SQL folds case
SQL_MAX_FRACTION = 6  # more decimals need rounding half to even: done in Python for those rare cells

NUMBER_LAYOUT_COLUMNS = ("skeleton", "kind", "negative", "int_s", "int_l", "frac_s", "frac_l")


def number_layout(skeleton: str, style: str) -> tuple[Any, ...]:
    """(skeleton, kind, negative, int start, int length, fraction start, fraction length); kind is "ok",
    "empty", "invalid" or "slow" (parsed per cell in Python)."""
    layout = _number_layout(skeleton, style, True)
    if layout == values.EMPTY_VALUE:
        return (skeleton, "empty", None, None, None, None, None)
    if layout is None:
        return (skeleton, "invalid", None, None, None, None, None)
    if not isinstance(layout, _NumberLayout) or len(layout.frac_cols) > SQL_MAX_FRACTION:
        return (skeleton, "slow", None, None, None, None, None)
    int_s = int_l = frac_s = frac_l = None
    if layout.int_cols:
        int_s, int_l = layout.int_cols[0] + 1, layout.int_cols[-1] - layout.int_cols[0] + 1
    if layout.frac_cols:
        frac_s, frac_l = layout.frac_cols[0] + 1, len(layout.frac_cols)
    return (skeleton, "ok", layout.negative, int_s, int_l, frac_s, frac_l)


def slow_number(text: str, style: str) -> tuple[str | None, str | None]:
    """A cell the skeleton cannot settle: the reference parser's (canonical value, error)."""
    return _number_from_text(text, style, True)


def date_labels(label: str | None) -> list[str]:
    """The formats tried in order for a text cell: the column's, then the unambiguous ISO ones."""
    return list(dict.fromkeys(([label] if label in values.DATE_FORMATS else []) + list(_ISO_LABELS)))


def date_layout_columns() -> tuple[str, ...]:
    fields = [f"a{k}_{FIELD_COLUMNS[f]}_{p}" for k in range(DATE_ATTEMPTS) for f in DATE_FIELDS for p in ("s", "l")]
    return ("skeleton", "empty", *fields)


def date_layout(skeleton: str, labels: list[str]) -> tuple[Any, ...]:
    """(skeleton, blank, then per attempt and field: start, length); the attempts are the formats that match
    the skeleton, in the order the Python path tries them."""
    span = _span(skeleton)
    if span[0] >= span[1]:
        return (skeleton, True, *([None] * (DATE_ATTEMPTS * len(DATE_FIELDS) * 2)))
    attempts = [layout for lb in labels if (layout := _date_layout(skeleton, lb)) is not None]
    cells: list[int | None] = []
    for k in range(DATE_ATTEMPTS):
        layout = attempts[k] if k < len(attempts) else {}
        for field in DATE_FIELDS:
            start, end = layout.get(field, (None, None))
            cells += [None, None] if start is None or end is None else [start + 1, end - start]
    return (skeleton, False, *cells)


def date_failure(label: str | None) -> str:
    return f"{values.NOT_A_DATE} in format {label}" if label in values.DATE_FORMATS else values.NOT_A_DATE


def uf_code(text: str) -> tuple[str, str | None, bool]:
    """(cell, code or None, known): a blank cell is known and has no code."""
    code = _uf(text)
    return (text, code or None, code is not None)


def cleaned_texts(texts: list[str]) -> list[tuple[str, str | None]]:
    """(cell, whitespace-normalized text or None) for cells whose whitespace needs more than a copy."""
    import pandas as pd

    return list(zip(texts, clean_text(pd.Series(texts, dtype=object)).tolist(), strict=True))


def whitespace_chars() -> str:
    """Every character str.split() splits on (what clean_text collapses)."""
    return "".join(c for c in map(chr, range(0x110000)) if c.isspace())
