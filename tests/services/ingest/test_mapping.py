"""Column mapping: synonyms in Portuguese and English, accents, prefixes, explicit mappings and their errors."""

from __future__ import annotations

import pytest

from app.core.errors import Unprocessable
from app.services.ingest.mapping import CANONICAL_FIELDS, SYNONYMS, detect_mapping, normalize_header


@pytest.mark.parametrize(
    ("header", "normalized"),
    [
        ("Valor", "valor"),
        ("  Data  ", "data"),
        ("Data da Venda", "data_da_venda"),
        ("valor_total_r$", "valor_total_r"),
        ("Valor Total (R$)", "valor_total_r"),
        ("Preço", "preco"),
        ("COMPETÊNCIA", "competencia"),
        ("Data-Emissão", "data_emissao"),
        ("UF_Cliente", "uf_cliente"),
        ("vl__total", "vl_total"),
        ("", ""),
    ],
)
def test_normalize_header(header, normalized):
    assert normalize_header(header) == normalized


def test_synonyms_are_normalized_and_cover_the_documented_names():
    for field, names in SYNONYMS.items():
        assert field in CANONICAL_FIELDS
        assert all(normalize_header(name) == name for name in names)
    assert {"data", "dt_venda", "mes", "competencia", "data_pedido"} <= set(SYNONYMS["date"])
    assert {"valor", "vl_total", "vlr", "faturamento", "price"} <= set(SYNONYMS["value"])
    assert {"uf", "estado", "sg_uf", "uf_cliente"} <= set(SYNONYMS["uf"])
    assert {"categoria", "produto", "segment", "tipo"} <= set(SYNONYMS["category"])


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["Data", "Valor", "UF", "Categoria"], {"date": "Data", "value": "Valor", "uf": "UF", "category": "Categoria"}),
        (
            ["date", "amount", "state", "product"],
            {"date": "date", "value": "amount", "uf": "state", "category": "product"},
        ),
        (
            ["DATA_EMISSÃO", "Preço", "Estado", "Segmento"],
            {"date": "DATA_EMISSÃO", "value": "Preço", "uf": "Estado", "category": "Segmento"},
        ),
        (["Competência", "Faturamento"], {"date": "Competência", "value": "Faturamento"}),
        (["Período", "Receita", "Sigla UF"], {"date": "Período", "value": "Receita", "uf": "Sigla UF"}),
        (["id", "Dt Venda", "Vl. Total", "cliente"], {"date": "Dt Venda", "value": "Vl. Total"}),
        (["Data da Venda", "valor_total_r$"], {"date": "Data da Venda", "value": "valor_total_r$"}),
        (
            ["Mês de Referência", "Vendas (R$)", "Linha de Produto"],
            {"date": "Mês de Referência", "value": "Vendas (R$)", "category": "Linha de Produto"},
        ),
    ],
)
def test_detects_columns_case_and_accent_insensitively(headers, expected):
    assert detect_mapping(headers) == expected


def test_exact_synonym_beats_an_earlier_prefix_match():
    assert detect_mapping(["Data da Venda", "Data", "Valor Bruto", "Valor"]) == {"date": "Data", "value": "Valor"}


def test_first_matching_header_in_file_order_wins():
    assert detect_mapping(["Total", "Valor", "Data"]) == {"date": "Data", "value": "Total"}
    assert detect_mapping(["Data da Venda", "Data do Pagamento", "Valor"])["date"] == "Data da Venda"


def test_prefix_matches_whole_words_only():
    with pytest.raises(Unprocessable) as err:
        detect_mapping(["Datas", "Valor", "Dtype"])
    assert err.value.detail.startswith("No date column found.")


def test_each_header_feeds_at_most_one_field():
    mapping = detect_mapping(["Data", "Valor", "Tipo", "Tipo"])
    assert mapping == {"date": "Data", "value": "Valor", "category": "Tipo"}
    assert len(set(mapping.values())) == len(mapping)


def test_missing_value_column_names_the_field_and_lists_headers():
    with pytest.raises(Unprocessable) as err:
        detect_mapping(["Data", "Produto"])
    assert err.value.status_code == 422
    assert err.value.code == "mapping_required"
    assert err.value.detail == (
        "No value column found. Headers found: 'Data', 'Produto'. Send a mapping such as {\"value\": \"<header>\"}."
    )
    assert err.value.extra["headers"] == ["Data", "Produto"]
    assert err.value.extra["missing"] == ["value"]


def test_missing_both_required_columns():
    with pytest.raises(Unprocessable) as err:
        detect_mapping(["Cliente", "Produto"])
    assert err.value.code == "mapping_required"
    assert err.value.detail == (
        "No date or value column found. Headers found: 'Cliente', 'Produto'. "
        'Send a mapping such as {"date": "<header>", "value": "<header>"}.'
    )
    with pytest.raises(Unprocessable) as err:
        detect_mapping([])
    assert "Headers found: none." in err.value.detail


def test_explicit_mapping_wins_and_the_rest_is_detected():
    headers = ["Quando", "Receita Líquida", "Valor", "UF"]
    mapping = detect_mapping(headers, {"date": "Quando", "value": "Receita Líquida"})
    assert mapping == {"date": "Quando", "value": "Receita Líquida", "uf": "UF"}


def test_explicit_headers_compare_case_and_accent_insensitively_and_return_the_original():
    mapping = detect_mapping(["Quando", "Receita Líquida"], {"date": "QUANDO", "value": "receita liquida"})
    assert mapping == {"date": "Quando", "value": "Receita Líquida"}


def test_a_header_taken_explicitly_is_not_detected_again():
    assert detect_mapping(["Data", "Valor", "Total"], {"value": "Total"}) == {"date": "Data", "value": "Total"}
    with pytest.raises(Unprocessable) as err:
        detect_mapping(["Data", "Valor"], {"date": "Valor"})
    assert err.value.code == "mapping_required" and err.value.detail.startswith("No value column found.")


@pytest.mark.parametrize(
    ("explicit", "fragment"),
    [
        ({"price": "Valor"}, "'price' is not a field (use date, value, uf, category)"),
        ({"value": "Nope"}, "header 'Nope' for 'value' is not in the file"),
        ({"value": ""}, "the header for 'value' must be a non-empty string"),
        ({"date": "Data", "value": "data"}, "header 'Data' is mapped to both 'date' and 'value'"),
    ],
)
def test_bad_explicit_mapping(explicit, fragment):
    with pytest.raises(Unprocessable) as err:
        detect_mapping(["Data", "Valor"], explicit)
    assert err.value.status_code == 422
    assert err.value.code == "invalid_mapping"
    assert fragment in err.value.detail
    assert err.value.detail.endswith("Headers found: 'Data', 'Valor'.")
    assert err.value.extra["headers"] == ["Data", "Valor"]


def test_every_problem_of_an_explicit_mapping_is_reported_at_once():
    with pytest.raises(Unprocessable) as err:
        detect_mapping(["Data", "Valor"], {"when": "Data", "value": "Amount"})
    assert "'when' is not a field" in err.value.detail and "header 'Amount'" in err.value.detail
