"""Value parsing for Brazilian real-world data: numbers, decimal-style and date-format detection, UFs, text."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from app.services.ingest import values as v

NAN = "not a number"
EMPTY = "empty value"
RANGE = "out of range"


def col(*cells) -> pd.Series:
    return pd.Series(list(cells), dtype=object)


def number(cell, style):
    values, errors = v.parse_numbers(col(cell), style)
    return values[0] if errors[0] is None else errors[0]


def detect_style(*chunks) -> str:
    detector = v.NumberStyleDetector()
    for chunk in chunks:
        detector.feed(col(*chunk))
    return detector.style


def one_date(cell, label):
    dates, errors = v.parse_dates(col(cell), label)
    return dates[0] if errors[0] is None else errors[0]


def detect_date(*chunks) -> str | None:
    detector = v.DateFormatDetector()
    for chunk in chunks:
        detector.feed(col(*chunk))
    return detector.label


# -- numbers ----------------------------------------------------------------------------------------------------

# (cell, comma style, point style): a canonical string or the error reason.
NUMBER_CASES = [
    ("1234.56", "1234.56", "1234.56"),
    ("1.234,56", "1234.56", "1234.56"),
    ("1,234.56", "1234.56", "1234.56"),
    ("R$ 1.234,56", "1234.56", "1234.56"),
    ("R$1.234,56", "1234.56", "1234.56"),
    ("-1.234,56", "-1234.56", "-1234.56"),
    ("R$ -1.234,56", "-1234.56", "-1234.56"),
    ("- R$ 1.234,56", "-1234.56", "-1234.56"),
    ("-R$ 1.234,56", "-1234.56", "-1234.56"),
    ("(1.234,56)", "-1234.56", "-1234.56"),
    ("(R$ 1.234,56)", "-1234.56", "-1234.56"),
    ("R$ (1.234,56)", "-1234.56", "-1234.56"),
    ("\u22121.234,56", "-1234.56", "-1234.56"),
    ("R$\u00a01.234,56", "1234.56", "1234.56"),
    ("\u00a0R$ 1.234,56\u00a0", "1234.56", "1234.56"),
    ("1234", "1234", "1234"),
    ("1.234", "1234", "1.234"),
    ("1,234", "1.234", "1234"),
    ("1.234.567", "1234567", "1234567"),
    ("1,234,567", "1234567", "1234567"),
    ("1.234.567,89", "1234567.89", "1234567.89"),
    ("1,234,567.89", "1234567.89", "1234567.89"),
    ("12,5", "12.5", "12.5"),
    ("12.5", "12.5", "12.5"),
    ("+5", "5", "5"),
    (" 7 ", "7", "7"),
    ("\t7\n", "7", "7"),
    ("007", "7", "7"),
    ("100,00", "100", "100"),
    ("1,50", "1.5", "1.5"),
    (",5", "0.5", "0.5"),
    (".5", "0.5", "0.5"),
    ("0", "0", "0"),
    ("0,00", "0", "0"),
    ("-0,00", "0", "0"),
    ("(0)", "0", "0"),
    ("1,1234565", "1.123456", "1.123456"),  # half-even: ...65 -> ...6
    ("1,1234575", "1.123458", "1.123458"),  # half-even: ...75 -> ...8
    ("1.1234565", "1.123456", "1.123456"),
    ("0,9999995", "1", "1"),  # the rounding carry runs into the integer part
    ("99,9999985", "99.999998", "99.999998"),
    ("99,99999850001", "99.999999", "99.999999"),
    ("-0,0000005", "0", "0"),
    ("0,0000015", "0.000002", "0.000002"),
    ("0,0000004", "0", "0"),
    ("-0,0000004", "0", "0"),
    ("999999999999999999", "999999999999999999", "999999999999999999"),
    ("999.999.999.999.999.999,999999", "999999999999999999.999999", "999999999999999999.999999"),
    ("000000000000000000001", "1", "1"),
    ("1000000000000000000", RANGE, RANGE),
    ("1.000.000.000.000.000.000", RANGE, RANGE),
    ("999999999999999999,9999996", RANGE, RANGE),  # rounding carries into a 19th digit
    ("99999999999999999,9999996", "100000000000000000", "100000000000000000"),
    ("1e5", NAN, "100000"),  # scientific notation only in point style
    ("1.5E-3", NAN, "0.0015"),
    ("-2.5e+3", NAN, "-2500"),
    ("1e400", NAN, RANGE),
    ("1e-400", NAN, "0"),
    ("1,5e3", NAN, NAN),
    ("abc", NAN, NAN),
    ("1,2,3,4", NAN, NAN),
    ("1.23.4", NAN, NAN),
    ("12,34,56", NAN, NAN),
    ("1.2345,6", NAN, NAN),
    ("--5", NAN, NAN),
    ("+-5", NAN, NAN),
    ("(-5)", NAN, NAN),
    ("(5", NAN, NAN),
    ("5)", NAN, NAN),
    ("5,", NAN, NAN),
    ("5.", NAN, NAN),
    ("R$", NAN, NAN),
    ("-", NAN, NAN),
    ("R$ R$ 5", NAN, NAN),
    ("5 R$", NAN, NAN),
    ("1 234", NAN, NAN),
    ("12%", NAN, NAN),
    ("US$ 5", NAN, NAN),
    ("\u0663", NAN, NAN),  # an Arabic-Indic digit is not a digit here
    ("", EMPTY, EMPTY),
    ("   ", EMPTY, EMPTY),
    ("\u00a0", EMPTY, EMPTY),
    (None, EMPTY, EMPTY),
]


@pytest.mark.parametrize(("cell", "comma", "point"), NUMBER_CASES)
def test_number_variants_in_both_styles(cell, comma, point):
    assert number(cell, "comma") == comma
    assert number(cell, "point") == point


def test_numbers_in_one_column_match_cell_by_cell_parsing():
    cells = [case[0] for case in NUMBER_CASES]
    for style, position in (("comma", 1), ("point", 2)):
        values, errors = v.parse_numbers(col(*cells), style)
        got = [value if error is None else error for value, error in zip(values, errors, strict=True)]
        assert got == [case[position] for case in NUMBER_CASES]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (1, "1"),
        (-7, "-7"),
        (2.5, "2.5"),
        (0.1 + 0.2, "0.3"),
        (1234.5678901, "1234.56789"),
        (1e-7, "0"),
        (1e15, "1000000000000000"),
        (10**18 - 1, "999999999999999999"),
        (10**18, RANGE),
        (1e20, RANGE),
        (-0.0, "0"),
        (float("nan"), NAN),
        (float("inf"), NAN),
        (float("-inf"), NAN),
        (True, NAN),
        (False, NAN),
        (Decimal("1.50"), "1.5"),
        (np.int64(5), "5"),
        (np.float64(2.25), "2.25"),
        (np.bool_(True), NAN),
        (dt.date(2024, 1, 1), NAN),
        (dt.datetime(2024, 1, 1), NAN),
        (None, EMPTY),
    ],
)
def test_xlsx_cells_are_taken_as_is(cell, expected):
    assert number(cell, "comma") == expected
    assert number(cell, "point") == expected


def test_numbers_keep_the_index_and_mix_cell_types():
    series = pd.Series(["1.234,56", 7, None, "x", 2.5], index=[10, 11, 12, 13, 14], dtype=object)
    values, errors = v.parse_numbers(series, "comma")
    assert values.index.tolist() == errors.index.tolist() == [10, 11, 12, 13, 14]
    assert values.dtype == object and errors.dtype == object
    assert values.tolist() == ["1234.56", "7", None, None, "2.5"]
    assert errors.tolist() == [None, None, EMPTY, NAN, None]


def test_missing_cells_of_a_string_dtype_column_are_empty():
    values, errors = v.parse_numbers(pd.Series(["1,5", None]), "comma")  # pandas "str" dtype: missing is NaN
    assert values.tolist() == ["1.5", None]
    assert errors.tolist() == [None, EMPTY]


def test_empty_series_and_unknown_style():
    values, errors = v.parse_numbers(col(), "comma")
    assert values.tolist() == [] and errors.tolist() == []
    with pytest.raises(ValueError, match="dot"):
        v.parse_numbers(col("1"), "dot")


def test_long_strings_take_the_per_cell_path():
    spaced = "R$" + " " * 80 + "1.234,56"
    values, errors = v.parse_numbers(col(spaced, "9" * 70, "x" * 100, " " * 90, "5,5"), "comma")
    assert values.tolist() == ["1234.56", None, None, None, "5.5"]
    assert errors.tolist() == [None, RANGE, NAN, EMPTY, None]


def test_lone_surrogates_from_undecodable_bytes_are_just_invalid():
    values, errors = v.parse_numbers(col("1\udcff5", "2,5"), "comma")
    assert values.tolist() == [None, "2.5"] and errors.tolist() == [NAN, None]
    assert one_date("1\udcff/01/2024", "dd/mm/yyyy") == "not a date in format dd/mm/yyyy"


CANONICAL = re.compile(r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{0,5}[1-9])?")


def test_random_cells_agree_with_the_reference_parser_and_are_canonical():
    rng = random.Random(20240115)
    alphabet = "0123456789" * 4 + ".,-+()R$ e\u00a0\u2212x"
    cells = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20_000)]
    cells += [
        f"{rng.choice(['', '-', 'R$ ', '('])}{rng.randint(0, 10**9):,}{rng.choice(['', ',5', '.25', ',000'])}"
        for _ in range(5_000)
    ]
    # More than 6 decimals: ties, runs of 9s that carry into the integer part, 17 and 18 integer digits.
    integers = ["0", "9", "99", "12", "9" * 17, "9" * 18]
    cells += [
        f"{rng.choice(['', '-'])}{rng.choice([*integers, str(rng.randint(0, 10**17))])}{rng.choice(['.', ','])}"
        f"{rng.choice(['999999', '123456', '000000', '999998', ''])}"
        f"{rng.choice(['5', '50', '500001', '4', '6', '49999', '9', ''])}{rng.choice(['', '0', '7'])}"
        for _ in range(5_000)
    ]
    for style in v.NUMBER_STYLES:
        values, errors = v.parse_numbers(col(*cells), style)
        for cell, value, error in zip(cells, values, errors, strict=True):
            assert (value, error) == v._number_from_text(cell, style), cell
            assert (value is None) != (error is None)
            if value is not None:
                assert CANONICAL.fullmatch(value), (cell, value)


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([["1.234", "5,50"]], "comma"),
        ([["1,234", "5.50"]], "point"),
        ([["1.234.567"]], "comma"),
        ([["1,234,567"]], "point"),
        ([["1.234,56"]], "comma"),
        ([["1,234.56"]], "point"),
        ([["3.14159"]], "point"),  # 4+ decimals cannot be a thousands group
        ([["1e5"]], "point"),
        ([["10"]], "comma"),  # no evidence: Brazilian default
        ([["1.234"]], "comma"),  # ambiguous alone
        ([["1,234"]], "comma"),
        ([[]], "comma"),
        ([["1,5", "1.5"]], "comma"),  # tie
        ([["12.5", "3.75", "1.234,56"]], "point"),
        ([["12,34,56", "abc", "", None]], "comma"),  # malformed values do not vote
        ([["1.5"], ["2,5"], ["3,5"]], "comma"),  # votes add up across chunks
        ([["1.5"], ["2.5"], ["3,5"]], "point"),
        ([[1.5, 2.5, 3.5, "4,5"]], "comma"),  # XLSX numbers do not vote
        ([["R$ 1.234,56", "(R$ 10,00)"]], "comma"),
    ],
)
def test_number_style_detection(chunks, expected):
    assert detect_style(*chunks) == expected


# -- dates --------------------------------------------------------------------------------------------------------

D = dt.date


@pytest.mark.parametrize(
    ("label", "cell", "expected"),
    [
        ("dd/mm/yyyy", "15/01/2024", D(2024, 1, 15)),
        ("dd/mm/yyyy", "1/2/2024", D(2024, 2, 1)),
        ("dd/mm/yyyy", " 15/01/2024 ", D(2024, 1, 15)),
        ("dd/mm/yyyy", "29/02/2024", D(2024, 2, 29)),
        ("dd/mm/yy", "15/01/24", D(2024, 1, 15)),
        ("dd/mm/yy", "01/01/00", D(2000, 1, 1)),
        ("dd/mm/yy", "01/01/68", D(2068, 1, 1)),
        ("dd/mm/yy", "01/01/69", D(1969, 1, 1)),
        ("yyyy-mm-dd", "2024-01-15", D(2024, 1, 15)),
        ("yyyy-mm-dd", "2024-1-5", D(2024, 1, 5)),
        ("mm/dd/yyyy", "01/15/2024", D(2024, 1, 15)),
        ("dd-mm-yyyy", "15-01-2024", D(2024, 1, 15)),
        ("dd.mm.yyyy", "15.01.2024", D(2024, 1, 15)),
        ("yyyy/mm/dd", "2024/01/15", D(2024, 1, 15)),
        ("iso-datetime", "2024-01-15T10:30:00", D(2024, 1, 15)),
        ("iso-datetime", "2024-01-15 10:30:00", D(2024, 1, 15)),
        ("iso-datetime", "2024-01-15T10:30", D(2024, 1, 15)),
        ("iso-datetime", "2024-01-15T10:30:00.123456", D(2024, 1, 15)),
        ("iso-datetime", "2024-01-15T10:30:00Z", D(2024, 1, 15)),
        ("iso-datetime", "2024-01-15T23:30:00-03:00", D(2024, 1, 15)),  # the date as written, not UTC
        ("iso-datetime", "2024-01-15T10:30:00+0530", D(2024, 1, 15)),
        ("dd/mm/yyyy hh:mm[:ss]", "15/01/2024 10:30", D(2024, 1, 15)),
        ("dd/mm/yyyy hh:mm[:ss]", "15/01/2024 10:30:59", D(2024, 1, 15)),
        ("dd/mm/yyyy hh:mm[:ss]", "5/1/2024 7:05", D(2024, 1, 5)),
        ("yyyy-mm", "2024-03", D(2024, 3, 1)),
        ("mm/yyyy", "03/2024", D(2024, 3, 1)),
        ("mm/yyyy", "3/2024", D(2024, 3, 1)),
    ],
)
def test_every_date_format(label, cell, expected):
    assert label in v.DATE_FORMATS
    assert one_date(cell, label) == expected


@pytest.mark.parametrize(
    ("label", "cell"),
    [
        ("dd/mm/yyyy", "31/02/2024"),
        ("dd/mm/yyyy", "29/02/2023"),
        ("dd/mm/yyyy", "00/01/2024"),
        ("dd/mm/yyyy", "13/13/2024"),
        ("dd/mm/yyyy", "15/01/24"),
        ("dd/mm/yyyy", "abc"),
        ("dd/mm/yyyy", "15/01/2024 10:30"),
        ("dd/mm/yyyy", "2024-01-15 25:00:00"),
        ("dd/mm/yy", "15/01/2024"),
        ("mm/dd/yyyy", "15/01/2024"),
        ("yyyy-mm-dd", "2024-02-30"),
        ("yyyy-mm", "2024-13"),
        ("mm/yyyy", "00/2024"),
        ("dd/mm/yyyy hh:mm[:ss]", "15/01/2024 24:00"),
        ("dd/mm/yyyy hh:mm[:ss]", "15/01/2024 10:60"),
        ("iso-datetime", "2024-01-15T10:30:60"),
    ],
)
def test_invalid_dates_name_the_format(label, cell):
    assert one_date(cell, label) == f"not a date in format {label}"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("01/01/1899", "date out of range"),
        ("31/12/1899", "date out of range"),
        ("01/01/1900", D(1900, 1, 1)),
        ("31/12/2100", D(2100, 12, 31)),
        ("01/01/2101", "date out of range"),
        ("1899-12-31", "date out of range"),
    ],
)
def test_years_outside_1900_2100_are_out_of_range(cell, expected):
    assert one_date(cell, "dd/mm/yyyy") == expected


@pytest.mark.parametrize("label", ["dd/mm/yyyy", "mm/yyyy", "excel", None])
def test_iso_strings_are_accepted_whatever_the_format(label):
    dates, errors = v.parse_dates(col("2024-01-15", "2024-01-15T10:30:00-03:00", "2024-01-15 08:00:00"), label)
    assert dates.tolist() == [D(2024, 1, 15)] * 3
    assert errors.tolist() == [None] * 3


def test_without_a_string_format_other_strings_are_not_dates():
    assert one_date("15/01/2024", None) == "not a date"
    assert one_date("15/01/2024", "excel") == "not a date"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (45292, D(2024, 1, 1)),
        (45292.75, D(2024, 1, 1)),  # the time of day is dropped
        (1, D(1900, 1, 1)),
        (59, D(1900, 2, 28)),
        (60, "not a date"),  # Excel's fake 1900-02-29
        (61, D(1900, 3, 1)),
        (np.int64(45292), D(2024, 1, 1)),
        (0, "not a date"),
        (-5, "not a date"),
        (2958465, "date out of range"),  # 9999-12-31
        (2958466, "not a date"),
        (float("nan"), EMPTY),
        (True, "not a date"),
        (dt.datetime(2024, 1, 15, 10, 30), D(2024, 1, 15)),
        (dt.date(2024, 1, 15), D(2024, 1, 15)),
        (pd.Timestamp("2024-01-15 23:59"), D(2024, 1, 15)),
        (dt.date(1850, 1, 1), "date out of range"),
        (dt.time(10, 30), "not a date"),
        (None, EMPTY),
        ("", EMPTY),
        ("   ", EMPTY),
        ("45292", "not a date in format dd/mm/yyyy"),  # a serial is a number cell, never a string
    ],
)
def test_xlsx_date_cells_and_serials(cell, expected):
    assert one_date(cell, "dd/mm/yyyy") == expected


def test_dates_keep_the_index_and_return_date_objects():
    series = pd.Series(["15/01/2024", dt.datetime(2024, 2, 1, 9), None, "x"], index=[5, 6, 7, 8], dtype=object)
    dates, errors = v.parse_dates(series, "dd/mm/yyyy")
    assert dates.index.tolist() == errors.index.tolist() == [5, 6, 7, 8]
    assert dates.tolist() == [D(2024, 1, 15), D(2024, 2, 1), None, None]
    assert all(type(d) is dt.date for d in dates if d is not None)
    assert errors.tolist() == [None, None, EMPTY, "not a date in format dd/mm/yyyy"]


def test_unknown_date_label_is_a_programming_error():
    with pytest.raises(ValueError, match="yyyymmdd"):
        v.parse_dates(col("1"), "yyyymmdd")


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([["15/01/2024", "16/01/2024"]], "dd/mm/yyyy"),
        ([["15/01/24"]], "dd/mm/yy"),
        ([["2024-01-15"]], "yyyy-mm-dd"),
        ([["15-01-2024"]], "dd-mm-yyyy"),
        ([["15.01.2024"]], "dd.mm.yyyy"),
        ([["2024/01/15"]], "yyyy/mm/dd"),
        ([["2024-01-15T10:30:00", "2024-01-16 11:00:00"]], "iso-datetime"),
        ([["15/01/2024 10:30", "16/01/2024 11:00:05"]], "dd/mm/yyyy hh:mm[:ss]"),
        ([["2024-01", "2024-02"]], "yyyy-mm"),
        ([["01/2024", "02/2024"]], "mm/yyyy"),
        ([["01/02/2024", "03/04/2024"]], "dd/mm/yyyy"),  # ambiguous: day first
        ([["01/02/2024", "03/13/2024"]], "mm/dd/yyyy"),  # a 2nd part > 12 and no 1st part > 12
        ([["02/13/2024"]], "mm/dd/yyyy"),
        ([["13/02/2024", "03/13/2024"]], "dd/mm/yyyy"),  # a 1st part > 12 rules mm/dd out
        ([["02/13/2024"], ["25/12/2024"]], "dd/mm/yyyy"),  # ... even in a later chunk
        ([["2024-01-15", "15/01/2024", "16/01/2024"]], "dd/mm/yyyy"),  # majority
        ([["15/01/2024", "x", "", None, "31/02/2024"]], "dd/mm/yyyy"),
        ([[45292, dt.date(2024, 1, 1), dt.datetime(2024, 1, 2, 3)]], "excel"),
        ([[45292, "15/01/2024"]], "dd/mm/yyyy"),
        ([["abc", "", None, True]], None),
        ([[]], None),
    ],
)
def test_date_format_detection(chunks, expected):
    assert detect_date(*chunks) == expected


# -- UFs and text -------------------------------------------------------------------------------------------------


def test_the_27_federative_units():
    assert len(v.UF_CODES) == len(set(v.UF_CODES)) == 27
    expected = "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO"
    assert set(v.UF_CODES) == set(expected.split(" "))
    assert set(v.UF_NAMES) == set(v.UF_CODES)
    assert v.UF_NAMES["SP"] == "São Paulo" and v.UF_NAMES["DF"] == "Distrito Federal"


def test_every_name_and_code_round_trips():
    codes = list(v.UF_NAMES)
    assert v.parse_ufs(col(*v.UF_NAMES.values()))[0].tolist() == codes
    assert v.parse_ufs(col(*(name.upper() for name in v.UF_NAMES.values())))[0].tolist() == codes
    assert v.parse_ufs(col(*(code.lower() for code in codes)))[0].tolist() == codes
    assert v.parse_ufs(col(*v.UF_NAMES.values()))[1].tolist() == [None] * 27


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("SP", "SP"),
        (" sp ", "SP"),
        ("Sp", "SP"),
        ("São Paulo", "SP"),
        ("SAO PAULO", "SP"),
        ("sao paulo", "SP"),
        ("  são \u00a0 paulo ", "SP"),
        ("SÃO PAULO", "SP"),
        ("Distrito Federal", "DF"),
        ("distrito federal", "DF"),
        ("Espírito Santo", "ES"),
        ("ESPIRITO SANTO", "ES"),
        ("Amapá", "AP"),
        ("amapa", "AP"),
        ("Piauí", "PI"),
        ("Ceará", "CE"),
        ("Goiás", "GO"),
        ("Maranhão", "MA"),
        ("Pará", "PA"),
        ("Paraíba", "PB"),
        ("Paraná", "PR"),
        ("parana", "PR"),
        ("Rondônia", "RO"),
        ("Rio Grande do Norte", "RN"),
        ("rio grande do sul", "RS"),
        ("Mato Grosso", "MT"),
        ("Mato Grosso do Sul", "MS"),
    ],
)
def test_uf_variants(cell, code):
    codes, errors = v.parse_ufs(col(cell))
    assert (codes[0], errors[0]) == (code, None)


@pytest.mark.parametrize(
    ("cell", "error"),
    [
        ("", None),
        ("   ", None),
        (None, None),
        ("XX", "unknown UF"),
        ("S P", "unknown UF"),
        ("São Paulo - SP", "unknown UF"),
        ("Brasil", "unknown UF"),
        (35, "unknown UF"),
        (True, "unknown UF"),
    ],
)
def test_empty_uf_is_fine_anything_else_is_unknown(cell, error):
    codes, errors = v.parse_ufs(col(cell))
    assert (codes[0], errors[0]) == (None, error)


def test_clean_text():
    cells = [
        "  Casa   e\u00a0Jardim ",
        "Eletrônicos",
        "",
        "   ",
        None,
        7.0,
        7.5,
        3,
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2),
        dt.datetime(2024, 1, 2, 3, 4),
        True,
    ]
    assert v.clean_text(pd.Series(cells, index=range(10, 22), dtype=object)).to_dict() == dict(
        zip(
            range(10, 22),
            [
                "Casa e Jardim",
                "Eletrônicos",
                None,
                None,
                None,
                "7",
                "7.5",
                "3",
                "2024-01-02",
                "2024-01-02",
                "2024-01-02 03:04:00",
                "True",
            ],
            strict=False,
        )
    )
