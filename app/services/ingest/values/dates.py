"""Dates: format detection over a column and parsing of strings, date cells and Excel serials."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

import numpy as np
import pandas as pd

from app.services.ingest.values._cells import (
    _WS,
    DATE_OUT_OF_RANGE,
    EMPTY_VALUE,
    NOT_A_DATE,
    _cells,
    _read_int,
    _series,
    _skeletons,
    _span,
)

# -- dates ----------------------------------------------------------------------------------------------------

DATE_FORMATS: dict[str, str] = {
    "dd/mm/yyyy": "%d/%m/%Y",
    "dd/mm/yy": "%d/%m/%y",
    "yyyy-mm-dd": "%Y-%m-%d",
    "mm/dd/yyyy": "%m/%d/%Y",
    "dd-mm-yyyy": "%d-%m-%Y",
    "dd.mm.yyyy": "%d.%m.%Y",
    "yyyy/mm/dd": "%Y/%m/%d",
    "iso-datetime": "%Y-%m-%dT%H:%M:%S",  # also " " for "T", fractions and a Z/offset
    "dd/mm/yyyy hh:mm[:ss]": "%d/%m/%Y %H:%M:%S",  # seconds optional
    "yyyy-mm": "%Y-%m",  # month only -> first day of the month
    "mm/yyyy": "%m/%Y",
}
_D, _M, _Y, _YY = r"(?P<d>9{1,2})", r"(?P<m>9{1,2})", r"(?P<y>9999)", r"(?P<yy>99)"
_ISO_TIME = r"[T ](?P<H>99):(?P<M>99)(?::(?P<S>99)(?:[.,]9+)?)?(?:Z|[+-]99(?::?99)?)?"
_DATE_RES = {
    label: re.compile(pattern)
    for label, pattern in {  # over skeletons: every digit is "9"
        "dd/mm/yyyy": f"{_D}/{_M}/{_Y}",
        "dd/mm/yy": f"{_D}/{_M}/{_YY}",
        "yyyy-mm-dd": f"{_Y}-{_M}-{_D}",
        "mm/dd/yyyy": f"{_M}/{_D}/{_Y}",
        "dd-mm-yyyy": f"{_D}-{_M}-{_Y}",
        "dd.mm.yyyy": rf"{_D}\.{_M}\.{_Y}",
        "yyyy/mm/dd": f"{_Y}/{_M}/{_D}",
        "iso-datetime": rf"{_Y}-(?P<m>99)-(?P<d>99){_ISO_TIME}",
        "dd/mm/yyyy hh:mm[:ss]": rf"{_D}/{_M}/{_Y}(?:T| +)(?P<H>9{{1,2}}):(?P<M>99)(?::(?P<S>99))?",
        "yyyy-mm": f"{_Y}-{_M}",
        "mm/yyyy": f"{_M}/{_Y}",
    }.items()
}
_ISO_LABELS = ("yyyy-mm-dd", "iso-datetime")  # unambiguous: accepted whatever the column's format
_EXCEL_EPOCH, _EXCEL_EPOCH_EARLY = dt.date(1899, 12, 30), dt.date(1899, 12, 31)


@lru_cache(maxsize=4096)
def _date_layout(skeleton: str, label: str) -> dict[str, tuple[int, int]] | None:
    m = _DATE_RES[label].fullmatch(skeleton, *_span(skeleton))
    return None if m is None else {k: m.span(k) for k, v in m.groupdict().items() if v is not None}


def _read_dates(cp: np.ndarray, layout: dict[str, tuple[int, int]]):
    """(days as datetime64[D], valid date, year within 1900..2100, day-of-month field) for rows of one layout."""
    if "yy" in layout:  # %y: 00-68 -> 20xx, 69-99 -> 19xx
        yy = _read_int(cp, layout["yy"])
        year = np.where(yy <= 68, 2000 + yy, 1900 + yy)
    else:
        year = _read_int(cp, layout["y"])
    month = _read_int(cp, layout["m"])
    day = _read_int(cp, layout["d"]) if "d" in layout else np.ones(len(cp), np.int64)
    ok = (month >= 1) & (month <= 12) & (day >= 1)
    for field, top in (("H", 23), ("M", 59), ("S", 59)):
        if field in layout:
            ok &= _read_int(cp, layout[field]) <= top
    months = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + (np.maximum(day, 1) - 1).astype("timedelta64[D]")
    ok &= days.astype("datetime64[M]") == months
    return days, ok, (year >= 1900) & (year <= 2100), day


def _date_cell(value: object) -> tuple[dt.date | None, str | None]:
    """One XLSX cell: a real date/datetime, or an Excel serial (1900 system); times are dropped."""
    if isinstance(value, dt.datetime):  # pandas Timestamps included
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif (
        isinstance(value, int | float | np.number)
        and not isinstance(value, bool | np.bool_)
        and 1 <= value <= 2958465
        and int(value) != 60
    ):  # serial 60 is Excel's fake 1900-02-29
        serial = int(value)
        day = (_EXCEL_EPOCH if serial > 60 else _EXCEL_EPOCH_EARLY) + dt.timedelta(days=serial)
    else:
        return None, NOT_A_DATE
    return (day, None) if 1900 <= day.year <= 2100 else (None, DATE_OUT_OF_RANGE)


class DateFormatDetector:
    """Feeds on every value of a column and picks the one format that parses the most values.

    Day-first (Brazilian) wins ambiguity: mm/dd/yyyy is chosen only if some value has a 2nd part > 12 and
    none has a 1st part > 12. Ties go to the earlier entry of DATE_FORMATS.
    """

    def __init__(self) -> None:
        self.counts = dict.fromkeys(DATE_FORMATS, 0)
        self.excel = 0
        self._first_over_12 = self._second_over_12 = False

    def feed(self, series: pd.Series, weights: np.ndarray | None = None) -> None:
        """weights: how many cells each value stands for (distinct values with their counts); 1 each by default."""
        cells = _cells(series)
        self.excel += sum(_date_cell(cells.values[i])[0] is not None for i in cells.other)
        if not cells.text.size:
            return
        counts = weights[cells.text] if weights is not None else np.ones(cells.text.size, np.int64)
        sk = _skeletons(cells.values[cells.text])
        for skeleton, rows in sk.groups:
            for label in DATE_FORMATS:
                if (layout := _date_layout(skeleton, label)) is None:
                    continue
                _, ok, _, day = _read_dates(sk.cp[rows], layout)
                self.counts[label] += int(counts[rows][ok].sum())
                if label == "dd/mm/yyyy" and (ok & (day > 12)).any():
                    self._first_over_12 = True
                elif label == "mm/dd/yyyy" and (ok & (day > 12)).any():
                    self._second_over_12 = True

    @property
    def label(self) -> str | None:
        """The chosen format; "excel" when only date cells / serials parsed; None when nothing did."""
        us_allowed = self._second_over_12 and not self._first_over_12
        candidates = [lb for lb in DATE_FORMATS if lb != "mm/dd/yyyy" or us_allowed]
        best = max(candidates, key=lambda lb: self.counts[lb])  # max keeps the first of equal counts
        if self.counts[best]:
            return best
        return "excel" if self.excel else None


def parse_dates(series: pd.Series, label: str | None) -> tuple[pd.Series, pd.Series]:
    """(datetime.date or None, error or None) per cell, strings read with the column's format."""
    if label is not None and label != "excel" and label not in DATE_FORMATS:
        raise ValueError(f"unknown date format {label!r}")
    cells = _cells(series)
    dates = np.full(len(cells.values), None, dtype=object)
    errors = np.full(len(cells.values), None, dtype=object)
    errors[cells.null] = EMPTY_VALUE
    for i in cells.other:
        dates[i], errors[i] = _date_cell(cells.values[i])
    if not cells.text.size:
        return _series(dates, series), _series(errors, series)
    failure = f"{NOT_A_DATE} in format {label}" if label in DATE_FORMATS else NOT_A_DATE
    labels = list(dict.fromkeys(([label] if label in DATE_FORMATS else []) + list(_ISO_LABELS)))
    texts = cells.values[cells.text]
    sk = _skeletons(texts)
    text_dates = np.full(len(texts), None, dtype=object)
    text_errors = np.full(len(texts), failure, dtype=object)
    for skeleton, rows in sk.groups:
        if _span(skeleton)[0] >= _span(skeleton)[1]:
            text_errors[rows] = EMPTY_VALUE
            continue
        for lb in labels:
            if (layout := _date_layout(skeleton, lb)) is None:
                continue
            days, ok, in_range, _ = _read_dates(sk.cp[rows], layout)
            good = ok & in_range
            text_dates[rows[good]] = days[good].astype(object)
            text_errors[rows[ok]] = np.where(in_range[ok], None, DATE_OUT_OF_RANGE)  # type: ignore[call-overload]
            rows = rows[~ok]  # noqa: PLW2901 the next layout tries only the rows still unparsed
    for i in sk.long:
        if not texts[i].strip(_WS):
            text_errors[i] = EMPTY_VALUE
    dates[cells.text], errors[cells.text] = text_dates, text_errors
    return _series(dates, series), _series(errors, series)
