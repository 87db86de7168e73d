"""Free text: whitespace-normalized strings from any cell."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from app.services.ingest.values._cells import _cells, _per_distinct, _series

# -- text -----------------------------------------------------------------------------------------------------


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
