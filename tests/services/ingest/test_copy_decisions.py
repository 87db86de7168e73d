"""The decisions the COPY path asks of the Python rules: where the digits and date fields sit in a skeleton, and
what a UF or category cell becomes (runs on every database: no SQL involved)."""

from __future__ import annotations

from app.services.ingest.copy_path import decisions

ISO_AFTER_DMY = ["dd/mm/yyyy", "yyyy-mm-dd", "iso-datetime"]


def test_number_layouts_are_1_based_substrings():
    assert decisions.number_layout("9.999,99", "comma") == ("9.999,99", "ok", False, 1, 5, 7, 2)
    assert decisions.number_layout("(R$ 99,9)", "comma") == ("(R$ 99,9)", "ok", True, 5, 2, 8, 1)
    assert decisions.number_layout(",9", "comma") == (",9", "ok", False, None, None, 2, 1)
    assert decisions.number_layout("  ", "comma")[1] == "empty"
    assert decisions.number_layout("abc", "comma")[1] == "invalid"
    assert decisions.number_layout("9,9999999", "comma")[1] == "slow"  # 7 decimals: rounded in Python
    assert decisions.number_layout("9e9", "point")[1] == "slow"  # an exponent


def test_date_layouts_follow_the_python_order_of_formats():
    assert decisions.date_labels("dd/mm/yyyy") == ISO_AFTER_DMY
    assert decisions.date_labels(None) == ["yyyy-mm-dd", "iso-datetime"]
    row = dict(zip(decisions.date_layout_columns(), decisions.date_layout("99/99/9999", ISO_AFTER_DMY), strict=True))
    assert (row["a0_d_s"], row["a0_d_l"], row["a0_mo_s"], row["a0_mo_l"], row["a0_y_s"], row["a0_y_l"]) == (
        1,
        2,
        4,
        2,
        7,
        4,
    )
    assert row["a1_y_s"] is None and row["empty"] is False
    iso = dict(zip(decisions.date_layout_columns(), decisions.date_layout("9999-99-99", ISO_AFTER_DMY), strict=True))
    assert (iso["a0_y_s"], iso["a0_mo_s"], iso["a0_d_s"]) == (1, 6, 9)  # yyyy-mm-dd is the first that matches
    assert decisions.date_layout(" ", ISO_AFTER_DMY)[1] is True
    assert decisions.date_failure("dd/mm/yyyy") == "not a date in format dd/mm/yyyy"
    assert decisions.date_failure("excel") == "not a date"


def test_uf_and_category_decisions():
    assert decisions.uf_code("São Paulo") == ("São Paulo", "SP", True)
    assert decisions.uf_code(" sp ") == (" sp ", "SP", True)
    assert decisions.uf_code("") == ("", None, True)
    assert decisions.uf_code("XX") == ("XX", None, False)
    assert decisions.cleaned_texts([" A  B\t", "   "]) == [(" A  B\t", "A B"), ("   ", None)]
    assert {" ", "\t", "\xa0", "\u2003"} <= set(decisions.whitespace_chars())
