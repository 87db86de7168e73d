"""Numbers: canonical decimal strings from Brazilian ("comma") or "point" style cells, and style detection."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

import numpy as np
import pandas as pd

from app.services.ingest.values._cells import (
    _WS_RE,
    EMPTY_VALUE,
    NOT_A_NUMBER,
    OUT_OF_RANGE,
    _cells,
    _series,
    _skeletons,
    _span,
)

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
    return re.compile(
        rf"(?:(?P<cur1>R\$){ws})?(?:(?P<open>\(){ws})?(?:(?P<s1>{sign}){ws})?"
        rf"(?:(?P<cur2>R\$){ws})?(?:(?P<s2>{sign}){ws})?{body}{exp}(?:{ws}(?P<close>\)))?"
    )


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
    kept = np.concatenate([np.zeros((len(digits), 1), digits.dtype), digits[:, : n_int + 6]], axis=1)
    first, tail = digits[:, n_int + 6], digits[:, n_int + 7 :].any(axis=1)
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
    text = np.where((np.strings.str_len(text) == 0) | np.strings.startswith(text, "."), np.strings.add("0", text), text)
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
    is_number = np.array(
        [
            isinstance(v, int | float | Decimal | np.number) and not isinstance(v, bool | np.bool_)
            for v in cells.values[cells.other]
        ],
        dtype=bool,
    )
    errors[cells.other[~is_number]] = NOT_A_NUMBER
    numeric = cells.other[is_number]
    if numeric.size:  # XLSX numbers are taken as-is: their shortest repr, read in point style
        reprs = np.array(
            [repr(float(v)) if isinstance(v, float | np.floating) else str(v) for v in cells.values[numeric]],
            dtype=object,
        )
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

    def feed(self, series: pd.Series, weights: np.ndarray | None = None) -> None:
        """weights: how many cells each value stands for (distinct values with their counts); 1 each by default."""
        cells = _cells(series)
        texts = cells.values[cells.text]
        if not len(texts):
            return
        counts = weights[cells.text] if weights is not None else np.ones(len(texts), np.int64)
        sk = _skeletons(texts)
        for skeleton, rows in sk.groups:
            if vote := _number_vote(skeleton):
                self.votes[vote] += int(counts[rows].sum())
        for i in sk.long:
            if vote := _number_vote(texts[i]):
                self.votes[vote] += int(counts[i])

    @property
    def style(self) -> str:
        return "point" if self.votes["point"] > self.votes["comma"] else "comma"
