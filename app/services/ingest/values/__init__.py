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

from app.services.ingest.values._cells import (
    DATE_OUT_OF_RANGE,
    EMPTY_VALUE,
    NOT_A_DATE,
    NOT_A_NUMBER,
    OUT_OF_RANGE,
    UNKNOWN_UF,
)
from app.services.ingest.values.dates import DATE_FORMATS, DateFormatDetector, parse_dates

# The per-cell reference parser, private but kept reachable: the tests compare the vectorized path with it.
from app.services.ingest.values.numbers import (
    NUMBER_STYLES,
    NumberStyleDetector,
    _number_from_text,  # noqa: F401
    parse_numbers,
)
from app.services.ingest.values.text import clean_text
from app.services.ingest.values.ufs import UF_CODES, UF_NAMES, parse_ufs

__all__ = [
    "DATE_FORMATS",
    "DATE_OUT_OF_RANGE",
    "EMPTY_VALUE",
    "NOT_A_DATE",
    "NOT_A_NUMBER",
    "NUMBER_STYLES",
    "OUT_OF_RANGE",
    "UF_CODES",
    "UF_NAMES",
    "UNKNOWN_UF",
    "DateFormatDetector",
    "NumberStyleDetector",
    "clean_text",
    "parse_dates",
    "parse_numbers",
    "parse_ufs",
]
