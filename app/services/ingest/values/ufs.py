"""UFs: Brazilian state codes and names, read case-, accent- and whitespace-insensitively."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from app.services.ingest.values._cells import _WS, UNKNOWN_UF, _cells, _per_distinct, _series

# -- UFs ------------------------------------------------------------------------------------------------------

UF_NAMES: dict[str, str] = {
    "AC": "Acre",
    "AL": "Alagoas",
    "AP": "Amapá",
    "AM": "Amazonas",
    "BA": "Bahia",
    "CE": "Ceará",
    "DF": "Distrito Federal",
    "ES": "Espírito Santo",
    "GO": "Goiás",
    "MA": "Maranhão",
    "MT": "Mato Grosso",
    "MS": "Mato Grosso do Sul",
    "MG": "Minas Gerais",
    "PA": "Pará",
    "PB": "Paraíba",
    "PR": "Paraná",
    "PE": "Pernambuco",
    "PI": "Piauí",
    "RJ": "Rio de Janeiro",
    "RN": "Rio Grande do Norte",
    "RS": "Rio Grande do Sul",
    "RO": "Rondônia",
    "RR": "Roraima",
    "SC": "Santa Catarina",
    "SP": "São Paulo",
    "SE": "Sergipe",
    "TO": "Tocantins",
}
UF_CODES: tuple[str, ...] = tuple(UF_NAMES)


def _fold(text: str) -> str:
    """Case-, accent- and whitespace-insensitive key."""
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


_UF_KEYS = {**{_fold(code): code for code in UF_CODES}, **{_fold(name): code for code, name in UF_NAMES.items()}}


def _uf(text: str) -> str | None:
    """The code for a name or code, "" for a blank cell, None when unknown."""
    return _UF_KEYS.get(_fold(text)) if text.strip(_WS) else ""


def uf_code(text: str) -> str | None:
    """The 2-letter code for a UF code or state name in any case, with or without accents; None when unknown."""
    return _UF_KEYS.get(_fold(text))


def parse_ufs(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(2-letter code or None, error or None); empty cells are fine (uf is optional), others "unknown UF"."""
    cells = _cells(series)
    codes = np.full(len(cells.values), None, dtype=object)
    errors = np.full(len(cells.values), None, dtype=object)
    errors[cells.other] = UNKNOWN_UF
    if cells.text.size:
        found = _per_distinct(cells.values[cells.text], _uf)
        # numpy's stubs do not take None as a fill value; object arrays do.
        codes[cells.text] = np.where(found == "", None, found)  # type: ignore[call-overload]
        errors[cells.text] = np.where(pd.isna(found), UNKNOWN_UF, None)  # type: ignore[call-overload]
    return _series(codes, series), _series(errors, series)
