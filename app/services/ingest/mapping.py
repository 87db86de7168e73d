"""Which file column feeds each canonical field: an explicit mapping first, then header synonyms."""

from __future__ import annotations

import json
import re
import unicodedata

from app.core.errors import Unprocessable

CANONICAL_FIELDS = ("date", "value", "uf", "category")
REQUIRED_FIELDS = ("date", "value")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "data",
        "date",
        "dt",
        "dt_venda",
        "data_venda",
        "mes",
        "month",
        "periodo",
        "competencia",
        "dia",
        "data_emissao",
        "data_pedido",
    ),
    "value": (
        "valor",
        "value",
        "amount",
        "total",
        "receita",
        "valor_total",
        "vl_total",
        "vlr",
        "faturamento",
        "vendas",
        "revenue",
        "sales",
        "preco",
        "price",
    ),
    "uf": ("uf", "estado", "state", "sigla_uf", "sg_uf", "uf_cliente"),
    "category": ("categoria", "category", "produto", "segmento", "product", "segment", "grupo", "linha", "tipo"),
}


def normalize_header(h: str) -> str:
    """Lowercase, accents stripped, every run of non-alphanumerics one "_", no "_" at the ends."""
    text = unicodedata.normalize("NFKD", str(h))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def _quoted(headers: list[str]) -> str:
    return ", ".join(f"'{h}'" for h in headers) or "none"


def _starts_with(words: list[str], synonym: str) -> bool:
    prefix = synonym.split("_")
    return words[: len(prefix)] == prefix


def _explicit(headers: list[str], explicit: dict[str, str]) -> dict[str, str]:
    """Validate an explicit mapping against the file's headers; every problem is reported at once."""
    problems: list[str] = []
    mapping: dict[str, str] = {}
    taken: dict[int, str] = {}
    normalized = [normalize_header(h) for h in headers]
    for key, wanted in explicit.items():
        field = str(key).strip().lower()
        if field not in CANONICAL_FIELDS:
            problems.append(f"'{key}' is not a field (use {', '.join(CANONICAL_FIELDS)})")
            continue
        if not isinstance(wanted, str) or not wanted.strip():
            problems.append(f"the header for '{field}' must be a non-empty string")
            continue
        # An exact header wins over one that only matches case/accent-insensitively.
        index = (
            headers.index(wanted)
            if wanted in headers
            else next((i for i, n in enumerate(normalized) if n and n == normalize_header(wanted)), None)
        )
        if index is None:
            problems.append(f"header '{wanted}' for '{field}' is not in the file")
        elif index in taken:
            problems.append(f"header '{headers[index]}' is mapped to both '{taken[index]}' and '{field}'")
        else:
            mapping[field], taken[index] = headers[index], field
    if problems:
        raise Unprocessable(
            f"Invalid mapping: {'; '.join(problems)}. Headers found: {_quoted(headers)}.",
            code="invalid_mapping",
            extra={"headers": headers},
        )
    return mapping


def detect_mapping(headers: list[str], explicit: dict[str, str] | None = None) -> dict[str, str]:
    """canonical field -> original header: explicit entries win, the rest is detected from header names.

    Detection is case/accent-insensitive: an exact synonym first, then a header whose words start with a
    synonym ("Data da Venda" -> data_da_venda -> date). A header feeds at most one field; the first matching
    header in file order wins. Raises Unprocessable (mapping_required) when no date or no value column is found.
    """
    headers = ["" if h is None else str(h) for h in headers]
    mapping = _explicit(headers, explicit) if explicit else {}
    used = {headers.index(h) for h in mapping.values()}
    words = [normalize_header(h).split("_") for h in headers]
    for matches in (lambda w, syn: "_".join(w) == syn, _starts_with):  # exact synonyms, then prefixes
        for field in CANONICAL_FIELDS:
            if field in mapping:
                continue
            for i, header_words in enumerate(words):
                if i not in used and any(matches(header_words, syn) for syn in SYNONYMS[field]):
                    mapping[field] = headers[i]
                    used.add(i)
                    break
    missing = [field for field in REQUIRED_FIELDS if field not in mapping]
    if missing:
        example = json.dumps(dict.fromkeys(missing, "<header>"), ensure_ascii=False)
        raise Unprocessable(
            f"No {' or '.join(missing)} column found. Headers found: {_quoted(headers)}. "
            f"Send a mapping such as {example}.",
            code="mapping_required",
            extra={"headers": headers, "missing": missing},
        )
    return {field: mapping[field] for field in CANONICAL_FIELDS if field in mapping}
