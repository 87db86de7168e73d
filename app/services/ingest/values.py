"""Vectorized parsers for raw cells: numbers, dates, UFs and free text, a whole column chunk at a time.

Input is an object Series of str (CSV) or str/int/float/bool/date/datetime/None (XLSX); each parser returns
(values, errors) on the same index. String cells are parsed by *skeleton*: every string becomes a row of code
points, digits turn into "9", and rows are grouped by skeleton ("R$ 9.999,99", "99/99/9999"). A column holds
few distinct skeletons, so the grammar (a regex) runs once per skeleton and the digits of every row of the
group are read straight from the code-point matrix. Only the rare rows the matrix cannot finish (exponents,
more than 18 integer digits, strings over 64 characters) go through the per-cell reference parser.
Missing cells (None, NaN, NaT) are "empty"; in parse_numbers only, a float NaN cell of an object column is
"not a number" (a numeric cell holding NaN), while NaN in a pandas "str" column is still a missing cell.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

import numpy as np
import pandas as pd

NOT_A_NUMBER, EMPTY_VALUE, OUT_OF_RANGE = "not a number", "empty value", "out of range"
NOT_A_DATE, DATE_OUT_OF_RANGE, UNKNOWN_UF = "not a date", "date out of range", "unknown UF"

_WS = " \t\r\n\x0b\x0c\xa0\u2007\u2009\u202f"
_WS_RE = f"[{_WS}]*"
_MAX_LEN = 64  # longer strings skip the matrix (it is as wide as the longest string)


# -- cells and skeletons --------------------------------------------------------------------------------------

@dataclass
class _Cells:
    values: np.ndarray  # every cell, object dtype
    text: np.ndarray    # positions of str cells
    other: np.ndarray   # positions of non-missing, non-str cells (XLSX numbers, dates, bools)
    null: np.ndarray    # positions of missing cells


def _cells(series: pd.Series, nan_is_number: bool = False) -> _Cells:
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        is_text = ~missing
    else:  # XLSX: a type check per cell, no parsing
        is_text = np.fromiter((isinstance(v, str) for v in values), bool, len(values))
    null = missing & ~is_text
    if nan_is_number and series.dtype == object and null.any():
        # In an object column a float NaN is a number cell holding NaN, not a missing cell.
        null[null] = [not isinstance(v, float | np.floating) for v in values[null]]
    return _Cells(values, np.flatnonzero(is_text), np.flatnonzero(~is_text & ~null), np.flatnonzero(null))


@dataclass
class _Skeletons:
    cp: np.ndarray                # (rows, width) uint32 code points; long rows are blank
    groups: list[tuple[str, np.ndarray]]  # (skeleton, row positions)
    long: np.ndarray              # row positions too long for the matrix


def _skeletons(texts: np.ndarray) -> _Skeletons:
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    long = np.flatnonzero(lengths > _MAX_LEN)
    if long.size:
        texts, lengths = texts.copy(), lengths.copy()
        texts[long], lengths[long] = "", 0
    width = max(int(lengths.max(initial=0)), 1)
    cp = texts.astype(f"<U{width}").view(np.uint32).reshape(len(texts), width)
    skeleton = np.where(cp - 48 < 10, np.uint32(57), cp)  # ASCII digit -> "9" (cp - 48 wraps below "0")
    codes, names = pd.factorize(skeleton.view(f"<U{width}").ravel().astype(object))
    codes[long] = -1
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(-1, len(names)) + 0.5)
    groups = [(names[k], order[bounds[k]:bounds[k + 1]]) for k in range(len(names)) if bounds[k + 1] > bounds[k]]
    return _Skeletons(cp, groups, long)


def _span(text: str) -> tuple[int, int]:
    """Where the text starts and ends once surrounding whitespace is ignored."""
    return len(text) - len(text.lstrip(_WS)), len(text.rstrip(_WS))


def _read_int(cp: np.ndarray, span: tuple[int, int]) -> np.ndarray:
    value = np.zeros(len(cp), np.int64)
    for col in range(*span):
        value = value * 10 + (cp[:, col].astype(np.int64) - 48)
    return value


def _series(values: np.ndarray, series: pd.Series) -> pd.Series:
    return pd.Series(values, index=series.index, dtype=object)


# -- numbers --------------------------------------------------------------------------------------------------

NUMBER_STYLES = ("comma", "point")
_SEPARATORS = {"comma": (".", ","), "point": (",", ".")}  # style -> (thousands, decimal)
_OTHER_STYLE = {"comma": "point", "point": "comma"}
_QUANTUM, _CONTEXT = Decimal("0.000001"), Context(prec=60, rounding=ROUND_HALF_EVEN)


def _number_regex(style: str, exponent: bool) -> re.Pattern[str]:
    group, decimal = (re.escape(c) for c in _SEPARATORS[style])
    ws = _WS_RE  # whitespace only ever follows a token, so matching stays linear
    body = rf"(?P<int>[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]+)?(?:{decimal}(?P<frac>[0-9]+))?"
    exp = r"(?:[eE](?P<exp>[-+]?[0-9]+))?" if exponent else r"(?P<exp>(?!))?"  # (?!) never matches: exp is None
    sign = r"[-+\u2212]"
    return re.compile(rf"(?:(?P<cur1>R\$){ws})?(?:(?P<open>\(){ws})?(?:(?P<s1>{sign}){ws})?"
                      rf"(?:(?P<cur2>R\$){ws})?(?:(?P<s2>{sign}){ws})?{body}{exp}(?:{ws}(?P<close>\)))?")


_NUMBER_RES = {(style, exp): _number_regex(style, exp) for style in NUMBER_STYLES for exp in (False, True)}


def _match_number(text: str, style: str, exponent: bool, span: tuple[int, int]) -> re.Match[str] | None:
    """The grammar: a match when text[span] is a well-formed number in this style."""
    m = _NUMBER_RES[style, exponent and style == "point"].fullmatch(text, *span)
    if m is None or (m["int"] is None and m["frac"] is None) or (m["open"] is None) != (m["close"] is None):
        return None
    if (m["s1"] and m["s2"]) or (m["open"] and (m["s1"] or m["s2"])) or (m["cur1"] and m["cur2"]):
        return None
    return m


def _match_any(text: str, style: str, lenient: bool, span: tuple[int, int]) -> re.Match[str] | None:
    # A cell that breaks the column's style but is well formed in the other one (no exponent) is accepted:
    # such a cell is unambiguous, e.g. "1234.56" in a comma column.
    m = _match_number(text, style, True, span)
    return m if m is not None or not lenient else _match_number(text, _OTHER_STYLE[style], False, span)


def _is_negative(m: re.Match[str]) -> bool:
    return bool(m["open"]) or (m["s1"] or m["s2"] or "+") in "-\u2212"


def _canonical(number: Decimal) -> tuple[str | None, str | None]:
    if not number.is_finite():
        return None, NOT_A_NUMBER
    if number.adjusted() >= 18:
        return None, OUT_OF_RANGE
    rounded = number.quantize(_QUANTUM, context=_CONTEXT)
    if rounded.adjusted() >= 18:
        return None, OUT_OF_RANGE
    text = format(rounded, "f").rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text), None


def _number_from_text(text: str, style: str, lenient: bool = True) -> tuple[str | None, str | None]:
    """Per-cell reference parser; the vectorized path gives the same answer for every input."""
    span = _span(text)
    if span[0] >= span[1]:
        return None, EMPTY_VALUE
    m = _match_any(text, style, lenient, span)
    if m is None:
        return None, NOT_A_NUMBER
    digits = (m["int"] or "0").replace(".", "").replace(",", "")
    try:
        number = Decimal(f"{'-' if _is_negative(m) else ''}{digits}.{m['frac'] or 0}e{m['exp'] or 0}")
    except ArithmeticError:  # an exponent beyond what Decimal can hold
        return None, OUT_OF_RANGE
    return _canonical(number)


@dataclass(frozen=True)
class _NumberLayout:
    int_cols: list[int]
    frac_cols: list[int]
    negative: bool


@lru_cache(maxsize=4096)
def _number_layout(skeleton: str, style: str, lenient: bool) -> _NumberLayout | str | None:
    """Where the digits sit in every string of this skeleton; EMPTY_VALUE, None (invalid) or "slow"."""
    span = _span(skeleton)
    if span[0] >= span[1]:
        return EMPTY_VALUE
    m = _match_any(skeleton, style, lenient, span)
    if m is None:
        return None
    int_cols = [i for i in range(*m.span("int")) if skeleton[i] == "9"]
    frac_cols = list(range(*m.span("frac")))
    # Exponents, and 18+ integer digits (a range check, maybe after a rounding carry) take the Decimal path.
    if m["exp"] is not None or len(int_cols) > 18 or (len(int_cols) == 18 and len(frac_cols) > 6):
        return "slow"
    return _NumberLayout(int_cols, frac_cols, _is_negative(m))


def _round_half_even(digits: np.ndarray, n_int: int) -> np.ndarray:
    """Digit rows rounded to 6 decimals, half to even; a leading 0 column absorbs a carry."""
    kept = np.concatenate([np.zeros((len(digits), 1), digits.dtype), digits[:, :n_int + 6]], axis=1)
    first, tail = digits[:, n_int + 6], digits[:, n_int + 7:].any(axis=1)
    up = (first > 5) | ((first == 5) & (tail | (kept[:, -1] % 2 == 1)))
    width = kept.shape[1]
    nines = np.cumprod(kept[:, ::-1] == 9, axis=1).sum(axis=1)  # trailing 9s become 0, the digit before +1
    kept[up[:, None] & (np.arange(width) >= width - nines[:, None])] = 0
    rows = np.flatnonzero(up)
    kept[rows, width - 1 - nines[rows]] += 1
    return kept


def _assemble_numbers(cp: np.ndarray, layout: _NumberLayout) -> np.ndarray:
    digits, n_int = cp[:, layout.int_cols + layout.frac_cols] - 48, len(layout.int_cols)
    if len(layout.frac_cols) > 6:
        digits, n_int = _round_half_even(digits, n_int), n_int + 1
    chars = digits + 48
    if layout.frac_cols:
        chars = np.concatenate([chars[:, :n_int], np.full((len(cp), 1), ord("."), np.uint32), chars[:, n_int:]], 1)
    chars = np.ascontiguousarray(chars, dtype=np.uint32)
    text = chars.view(f"<U{chars.shape[1]}").ravel()
    if layout.frac_cols:
        text = np.strings.rstrip(np.strings.rstrip(text, "0"), ".")
    text = np.strings.lstrip(text, "0")
    text = np.where((np.strings.str_len(text) == 0) | np.strings.startswith(text, "."),
                    np.strings.add("0", text), text)
    if layout.negative:
        text = np.where(text == "0", text, np.strings.add("-", text))
    return text.astype(object)


def _number_texts(texts: np.ndarray, style: str, lenient: bool) -> tuple[np.ndarray, np.ndarray]:
    values = np.full(len(texts), None, dtype=object)
    errors = np.full(len(texts), None, dtype=object)
    if not len(texts):
        return values, errors
    sk = _skeletons(texts)
    slow = [sk.long]
    for skeleton, rows in sk.groups:
        layout = _number_layout(skeleton, style, lenient)
        if isinstance(layout, _NumberLayout):
            values[rows] = _assemble_numbers(sk.cp[rows], layout)
        elif layout == "slow":
            slow.append(rows)
        else:
            errors[rows] = layout or NOT_A_NUMBER
    for i in np.concatenate(slow):
        values[i], errors[i] = _number_from_text(texts[i], style, lenient)
    return values, errors


def parse_numbers(series: pd.Series, style: str) -> tuple[pd.Series, pd.Series]:
    """Canonical decimal strings ("-1234.56", at most 6 decimals, no exponent) and per-cell errors."""
    if style not in NUMBER_STYLES:
        raise ValueError(f"unknown number style {style!r}")
    cells = _cells(series, nan_is_number=True)
    values = np.full(len(cells.values), None, dtype=object)
    errors = np.full(len(cells.values), None, dtype=object)
    errors[cells.null] = EMPTY_VALUE
    values[cells.text], errors[cells.text] = _number_texts(cells.values[cells.text], style, lenient=True)
    is_number = np.array([isinstance(v, int | float | Decimal | np.number) and not isinstance(v, bool | np.bool_)
                          for v in cells.values[cells.other]], dtype=bool)
    errors[cells.other[~is_number]] = NOT_A_NUMBER
    numeric = cells.other[is_number]
    if numeric.size:  # XLSX numbers are taken as-is: their shortest repr, read in point style
        reprs = np.array([repr(float(v)) if isinstance(v, float | np.floating) else str(v)
                          for v in cells.values[numeric]], dtype=object)
        values[numeric], errors[numeric] = _number_texts(reprs, "point", lenient=False)
    return _series(values, series), _series(errors, series)


@lru_cache(maxsize=4096)
def _number_vote(skeleton: str) -> str | None:
    span = _span(skeleton)
    comma = _match_number(skeleton, "comma", False, span) is not None
    point = _match_number(skeleton, "point", True, span) is not None
    return "comma" if comma and not point else "point" if point and not comma else None


class NumberStyleDetector:
    """Votes over every value of a column (fed chunk by chunk) to decide its decimal style.

    A value votes for the style in which it is well formed when it is well formed in only that one:
    "5,50", "1.234,56" and "1.234.567" vote comma; "5.50", "1,234.56", "1,234,567" and "1e5" vote point;
    "1.234", "1,234", "10" and malformed values do not vote. Ties and no evidence give "comma".
    """

    def __init__(self) -> None:
        self.votes = {"comma": 0, "point": 0}

    def feed(self, series: pd.Series) -> None:
        cells = _cells(series)
        texts = cells.values[cells.text]
        if not len(texts):
            return
        sk = _skeletons(texts)
        for skeleton, rows in sk.groups:
            if vote := _number_vote(skeleton):
                self.votes[vote] += len(rows)
        for i in sk.long:
            if vote := _number_vote(texts[i]):
                self.votes[vote] += 1

    @property
    def style(self) -> str:
        return "point" if self.votes["point"] > self.votes["comma"] else "comma"


# -- dates ----------------------------------------------------------------------------------------------------

DATE_FORMATS: dict[str, str] = {
    "dd/mm/yyyy": "%d/%m/%Y",
    "dd/mm/yy": "%d/%m/%y",
    "yyyy-mm-dd": "%Y-%m-%d",
    "mm/dd/yyyy": "%m/%d/%Y",
    "dd-mm-yyyy": "%d-%m-%Y",
    "dd.mm.yyyy": "%d.%m.%Y",
    "yyyy/mm/dd": "%Y/%m/%d",
    "iso-datetime": "%Y-%m-%dT%H:%M:%S",          # also " " for "T", fractions and a Z/offset
    "dd/mm/yyyy hh:mm[:ss]": "%d/%m/%Y %H:%M:%S",  # seconds optional
    "yyyy-mm": "%Y-%m",                            # month only -> first day of the month
    "mm/yyyy": "%m/%Y",
}
_D, _M, _Y, _YY = r"(?P<d>9{1,2})", r"(?P<m>9{1,2})", r"(?P<y>9999)", r"(?P<yy>99)"
_ISO_TIME = r"[T ](?P<H>99):(?P<M>99)(?::(?P<S>99)(?:[.,]9+)?)?(?:Z|[+-]99(?::?99)?)?"
_DATE_RES = {label: re.compile(pattern) for label, pattern in {  # over skeletons: every digit is "9"
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
}.items()}
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
    elif isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_) \
            and 1 <= value <= 2958465 and int(value) != 60:  # serial 60 is Excel's fake 1900-02-29
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

    def feed(self, series: pd.Series) -> None:
        cells = _cells(series)
        self.excel += sum(_date_cell(cells.values[i])[0] is not None for i in cells.other)
        if not cells.text.size:
            return
        sk = _skeletons(cells.values[cells.text])
        for skeleton, rows in sk.groups:
            for label in DATE_FORMATS:
                if (layout := _date_layout(skeleton, label)) is None:
                    continue
                _, ok, _, day = _read_dates(sk.cp[rows], layout)
                self.counts[label] += int(ok.sum())
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
            text_errors[rows[ok]] = np.where(in_range[ok], None, DATE_OUT_OF_RANGE)
            rows = rows[~ok]
    for i in sk.long:
        if not texts[i].strip(_WS):
            text_errors[i] = EMPTY_VALUE
    dates[cells.text], errors[cells.text] = text_dates, text_errors
    return _series(dates, series), _series(errors, series)


# -- UFs and text ---------------------------------------------------------------------------------------------

UF_NAMES: dict[str, str] = {
    "AC": "Acre", "AL": "Alagoas", "AP": "Amapá", "AM": "Amazonas", "BA": "Bahia", "CE": "Ceará",
    "DF": "Distrito Federal", "ES": "Espírito Santo", "GO": "Goiás", "MA": "Maranhão", "MT": "Mato Grosso",
    "MS": "Mato Grosso do Sul", "MG": "Minas Gerais", "PA": "Pará", "PB": "Paraíba", "PR": "Paraná",
    "PE": "Pernambuco", "PI": "Piauí", "RJ": "Rio de Janeiro", "RN": "Rio Grande do Norte",
    "RS": "Rio Grande do Sul", "RO": "Rondônia", "RR": "Roraima", "SC": "Santa Catarina", "SP": "São Paulo",
    "SE": "Sergipe", "TO": "Tocantins",
}
UF_CODES: tuple[str, ...] = tuple(UF_NAMES)


def _fold(text: str) -> str:
    """Case-, accent- and whitespace-insensitive key."""
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


_UF_KEYS = {**{_fold(code): code for code in UF_CODES}, **{_fold(name): code for code, name in UF_NAMES.items()}}


def _per_distinct(texts: np.ndarray, convert) -> np.ndarray:
    """convert() once per distinct string (such columns repeat a few values many times), spread to every row."""
    codes, uniques = pd.factorize(texts)
    results = np.empty(len(uniques), dtype=object)
    for k, unique in enumerate(uniques):  # one call per distinct value, not per row
        results[k] = convert(unique)
    return results[codes]


def _uf(text: str) -> str | None:
    """The code for a name or code, "" for a blank cell, None when unknown."""
    return _UF_KEYS.get(_fold(text)) if text.strip(_WS) else ""


def parse_ufs(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(2-letter code or None, error or None); empty cells are fine (uf is optional), others "unknown UF"."""
    cells = _cells(series)
    codes = np.full(len(cells.values), None, dtype=object)
    errors = np.full(len(cells.values), None, dtype=object)
    errors[cells.other] = UNKNOWN_UF
    if cells.text.size:
        found = _per_distinct(cells.values[cells.text], _uf)
        codes[cells.text] = np.where(found == "", None, found)
        errors[cells.text] = np.where(pd.isna(found), UNKNOWN_UF, None)
    return _series(codes, series), _series(errors, series)


def _cell_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))  # XLSX stores 7 as 7.0
    return str(value)


def clean_text(series: pd.Series) -> pd.Series:
    """Strip, collapse whitespace runs to one space (accents kept); empty -> None; non-str cells -> str()."""
    cells = _cells(series)
    out = np.full(len(cells.values), None, dtype=object)
    if cells.text.size:
        out[cells.text] = _per_distinct(cells.values[cells.text], lambda t: " ".join(t.split()) or None)
    for i in cells.other:
        out[i] = " ".join(_cell_text(cells.values[i]).split()) or None
    return _series(out, series)
