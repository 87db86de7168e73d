"""Shared by every parser: error messages, the cell split (text / other / missing) and string skeletons."""

from __future__ import annotations

from dataclasses import dataclass

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
    text: np.ndarray  # positions of str cells
    other: np.ndarray  # positions of non-missing, non-str cells (XLSX numbers, dates, bools)
    null: np.ndarray  # positions of missing cells


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
    cp: np.ndarray  # (rows, width) uint32 code points; long rows are blank
    groups: list[tuple[str, np.ndarray]]  # (skeleton, row positions)
    long: np.ndarray  # row positions too long for the matrix


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
    groups = [(names[k], order[bounds[k] : bounds[k + 1]]) for k in range(len(names)) if bounds[k + 1] > bounds[k]]
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


def _per_distinct(texts: np.ndarray, convert) -> np.ndarray:
    """convert() once per distinct string (such columns repeat a few values many times), spread to every row."""
    codes, uniques = pd.factorize(texts)
    results = np.empty(len(uniques), dtype=object)
    for k, unique in enumerate(uniques):  # one call per distinct value, not per row
        results[k] = convert(unique)
    return results[codes]
