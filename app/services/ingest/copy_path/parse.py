"""Type, validate and reject the rows of a text table with set-based SQL, writing staging and rejected rows.

The decisions come from `decisions` (the Python rules, once per distinct skeleton or value); SQL applies them to
every row. The parsed rows are written to staging once (what the preview and a later restore read) and the valid
ones to facts by the same statement; the rejected
cells are written in the order the Python path writes them (by line; value, date, then UF).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from app.core.config import get_settings
from app.core.db import driver_connection
from app.services import rollups
from app.services.ingest import values
from app.services.ingest.copy_path import decisions, lookups
from app.services.ingest.copy_path.text_table import TextTable
from app.services.ingest.staging import FACT_COLUMNS
from app.services.ingest.transform import CATEGORY_MAX, ColumnProfile
from app.services.ingest.values._cells import _WS

DIGITS_TO_NINES = "translate({}, '0123456789', '9999999999')"
PREVIEW_CHARS = 500  # the rejected value's preview, as transform._preview
ANY_WHITESPACE = decisions.whitespace_chars()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _array(items: list[str]) -> str:
    return "ARRAY[" + ", ".join(items) + "]::text[]"


def _execute(connection: Connection, sql: str) -> int:
    """Run generated SQL on the DB-API cursor without parameters (so "%" and ":" in header names stay literal);
    returns the row count."""
    with driver_connection(connection).cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.rowcount)


@dataclass
class Parsed:
    """What the batch report needs: the staged rows with at least one rejected cell (bad rows not counted)."""

    invalid_rows: int
    promoted: int  # the rows written to facts


@dataclass
class _Columns:
    value: int
    date: int
    uf: int | None
    category: int | None


def _column_positions(header: list[str], mapping: dict[str, str]) -> _Columns:
    def at(field: str) -> int | None:
        return header.index(mapping[field]) if field in mapping else None

    value, date = at("value"), at("date")
    if value is None or date is None:  # pragma: no cover - detect_mapping requires both
        raise RuntimeError("value and date must be mapped")
    return _Columns(value, date, at("uf"), at("category"))


class _Parser:
    def __init__(self, connection: Connection, table: TextTable, suffix: str) -> None:
        self.connection, self.table, self.suffix = connection, table, suffix
        self.temp: list[str] = []

    def name(self, what: str) -> str:
        name = f"painel_{what}_{self.suffix}"
        self.temp.append(name)
        return name

    def distinct(self, cell: str, where: str = "") -> list[str]:
        sql = f"SELECT DISTINCT {cell} FROM {self.table.name} t WHERE t.bad_reason = ''{where}"
        return [row[0] for row in self.connection.exec_driver_sql(sql)]

    def skeletons(self, cell: str) -> list[str]:
        known = self.table.skeletons.get(cell)
        if known is not None:
            return [skeleton for skeleton in known if len(skeleton) <= decisions.MAX_SKELETON]
        return self.distinct(DIGITS_TO_NINES.format(cell), f" AND length({cell}) <= {decisions.MAX_SKELETON}")

    def may_be_long(self, cell: str) -> bool:
        known = self.table.skeletons.get(cell)
        return known is None or any(len(skeleton) > decisions.MAX_SKELETON for skeleton in known)

    # -- numbers ------------------------------------------------------------------------------------------------

    def numbers(self, cell: str, style: str) -> tuple[str, str, str]:
        """(joins, value expression, error expression)."""
        layouts = self.name("number_layouts")
        rows = [decisions.number_layout(s, style) for s in self.skeletons(cell)]
        kinds = ("text", "text", "boolean", "integer", "integer", "integer", "integer")
        lookups.create(self.connection, layouts, list(zip(decisions.NUMBER_LAYOUT_COLUMNS, kinds, strict=True)), rows)
        kind = decisions.NUMBER_LAYOUT_COLUMNS.index("kind")
        # The cells the skeletons cannot settle are parsed one by one; with every skeleton known, a file that has
        # none skips the scan that looks for them.
        slow_cells = self.may_be_long(cell) or any(row[kind] == "slow" for row in rows)
        slow_sql = (
            f"SELECT t.line_no, {cell} FROM {self.table.name} t LEFT JOIN {layouts} nl "
            f"ON nl.skeleton = {DIGITS_TO_NINES.format(cell)} WHERE t.bad_reason = '' "
            f"AND (length({cell}) > {decisions.MAX_SKELETON} OR nl.kind = 'slow')"
        )
        slow = self.name("number_cells")
        count = lookups.create(
            self.connection,
            slow,
            [("line_no", "integer"), ("value", "numeric"), ("error", "text")],
            (
                (line, *decisions.slow_number(cell_text, style))
                for line, cell_text in (self.connection.exec_driver_sql(slow_sql).fetchall() if slow_cells else [])
            ),
        )
        joins = f" LEFT JOIN {layouts} nl ON nl.skeleton = {DIGITS_TO_NINES.format(cell)}"
        digits = (
            f"(CASE WHEN nl.negative THEN '-' ELSE '' END"
            f" || COALESCE(NULLIF(translate(substr({cell}, nl.int_s, nl.int_l), '.,', ''), ''), '0')"
            f" || '.' || COALESCE(substr({cell}, nl.frac_s, nl.frac_l), '0'))::numeric"
        )
        value = f"CASE WHEN nl.kind = 'ok' THEN {digits} END"
        error = (
            f"CASE nl.kind WHEN 'ok' THEN NULL WHEN 'empty' THEN {_literal(values.EMPTY_VALUE)} "
            f"ELSE {_literal(values.NOT_A_NUMBER)} END"
        )
        if count:
            joins += f" LEFT JOIN {slow} ns ON ns.line_no = t.line_no"
            value = f"CASE WHEN ns.line_no IS NOT NULL THEN ns.value ELSE {value} END"
            error = f"CASE WHEN ns.line_no IS NOT NULL THEN ns.error ELSE {error} END"
        return joins, value, error

    # -- dates --------------------------------------------------------------------------------------------------

    def dates(self, column: str, label: str | None) -> tuple[str, str, str]:
        """(joins, date expression, error expression): dates are parsed once per distinct cell (a column holds
        few distinct dates), into a lookup table the rows join."""
        layouts = self.name("date_layouts")
        skeletons = self.skeletons(column)
        cell = "t.cell"
        labels = decisions.date_labels(label)
        columns = decisions.date_layout_columns()
        kinds = ["text", "boolean"] + ["integer"] * (len(columns) - 2)
        rows = [decisions.date_layout(s, labels) for s in skeletons]
        lookups.create(self.connection, layouts, list(zip(columns, kinds, strict=True)), rows)

        def field(k: int, name: str) -> str:
            column = decisions.FIELD_COLUMNS[name]
            return f"substr({cell}, dl.a{k}_{column}_s, dl.a{k}_{column}_l)::integer"

        inner = ["dl.empty AS d_empty", f"length({cell}) > {decisions.MAX_SKELETON} AS d_long"]
        inner.append(f"btrim({cell}, {_literal(_WS)}) = '' AS d_blank")
        for k in range(decisions.DATE_ATTEMPTS):
            yy = field(k, "yy")
            inner += [
                f"COALESCE({field(k, 'y')}, {yy} + CASE WHEN {yy} <= 68 THEN 2000 ELSE 1900 END) AS y{k}",
                f"{field(k, 'm')} AS m{k}",
                f"COALESCE({field(k, 'd')}, 1) AS d{k}",
                f"COALESCE({field(k, 'H')}, 0) AS hh{k}",
                f"COALESCE({field(k, 'M')}, 0) AS mi{k}",
                f"COALESCE({field(k, 'S')}, 0) AS ss{k}",
            ]
        failure = _literal(decisions.date_failure(label))
        date_cases, error_cases = [], []
        for k in range(decisions.DATE_ATTEMPTS):
            y, m, d = f"p.y{k}", f"p.m{k}", f"p.d{k}"
            leap = f"(({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0)"
            days = (
                f"CASE WHEN {m} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
                f"WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
            )
            ok = (
                f"{y} IS NOT NULL AND {m} BETWEEN 1 AND 12 AND {d} >= 1 AND {d} <= {days} "
                f"AND p.hh{k} <= 23 AND p.mi{k} <= 59 AND p.ss{k} <= 59"
            )
            in_range = f"{y} BETWEEN 1900 AND 2100"
            date_cases.append(f"WHEN {ok} THEN CASE WHEN {in_range} THEN make_date({y}, {m}, {d}) END")
            error_cases.append(
                f"WHEN {ok} THEN CASE WHEN {in_range} THEN NULL ELSE {_literal(values.DATE_OUT_OF_RANGE)} END"
            )
        date = "CASE WHEN p.d_long OR p.d_empty THEN NULL " + " ".join(date_cases) + " END"
        empty = _literal(values.EMPTY_VALUE)
        error = (
            f"CASE WHEN p.d_long THEN CASE WHEN p.d_blank THEN {empty} ELSE {failure} END "
            f"WHEN p.d_empty THEN {empty} " + " ".join(error_cases) + f" ELSE {failure} END"
        )
        parsed = self.name("dates")
        distinct = f"SELECT DISTINCT {column} AS cell FROM {self.table.name} t WHERE t.bad_reason = ''"
        self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {parsed}")
        _execute(
            self.connection,
            f"CREATE TEMP TABLE {parsed} ON COMMIT DROP AS SELECT p.cell, {date} AS date, {error} AS error FROM "
            f"(SELECT t.cell, {', '.join(inner)} FROM ({distinct}) t LEFT JOIN {layouts} dl "
            f"ON dl.skeleton = {DIGITS_TO_NINES.format(cell)} OFFSET 0) p",
        )
        self.connection.exec_driver_sql(f"ANALYZE {parsed}")
        return f" LEFT JOIN {parsed} dt ON dt.cell = {column}", "dt.date", "dt.error"

    # -- UFs and categories ---------------------------------------------------------------------------------

    def ufs(self, cell: str) -> tuple[str, str, str]:
        codes = self.name("uf_codes")
        rows = [decisions.uf_code(v) for v in self.distinct(cell)]
        lookups.create(self.connection, codes, [("cell", "text"), ("code", "text"), ("known", "boolean")], rows)
        joins = f" LEFT JOIN {codes} uc ON uc.cell = {cell}"
        return joins, "uc.code", f"CASE WHEN uc.known THEN NULL ELSE {_literal(values.UNKNOWN_UF)} END"

    def categories(self, cell: str) -> tuple[str, str]:
        cleaned = self.name("categories")
        other = ANY_WHITESPACE.replace(" ", "")
        pattern = f"[{other}]|^ | $|  "
        needs_python = self.distinct(cell, f" AND {cell} ~ {_literal(pattern)}")
        count = lookups.create(
            self.connection, cleaned, [("cell", "text"), ("cleaned", "text")], decisions.cleaned_texts(needs_python)
        )
        plain = f"NULLIF({cell}, '')"
        if not count:
            return "", f"left({plain}, {CATEGORY_MAX})"
        joins = f" LEFT JOIN {cleaned} cc ON cc.cell = {cell}"
        return joins, f"left(CASE WHEN cc.cell IS NOT NULL THEN cc.cleaned ELSE {plain} END, {CATEGORY_MAX})"


def parse_into_staging(
    connection: Connection,
    table: TextTable,
    header: list[str],
    mapping: dict[str, str],
    profile: ColumnProfile,
    org_id: int,
    batch_id: int,
    data_source_id: int,
    daily_rollups: bool,
) -> Parsed:
    """Stage every shaped row of the text table (parsed, flagged valid or not), write the valid ones to facts in the
    same statement, with the source's daily rollups when `daily_rollups` (a replace: the caller cleared the
    source's facts and rollups first), and record every rejection."""
    positions = _column_positions(header, mapping)
    parser = _Parser(connection, table, str(batch_id))
    value_cell, date_cell = table.cell(positions.value), table.cell(positions.date)
    n_joins, value, value_error = parser.numbers(value_cell, profile.number_style)
    d_joins, date, date_error = parser.dates(date_cell, profile.date_format)
    joins = n_joins + d_joins
    uf, uf_error = "NULL::text", "NULL::text"
    if positions.uf is not None:
        u_joins, uf, uf_error = parser.ufs(table.cell(positions.uf))
        joins += u_joins
    category = "NULL::text"
    if positions.category is not None:
        c_joins, category = parser.categories(table.cell(positions.category))
        joins += c_joins
    names = [_literal(name) for name in header]
    cells = [table.cell(i) for i in range(len(header))]
    mapped = set(mapping.values())
    others = [i for i, name in enumerate(header) if name not in mapped]
    raw = f"json_object({_array(names)}, {_array(cells)})"
    attributes = (
        f"json_object({_array([names[i] for i in others])}, {_array([cells[i] for i in others])})"
        if others
        else "NULL::json"
    )
    ids = f"{int(org_id)}, {int(batch_id)}"  # inlined: header names in the SQL may hold ":" or "%"
    invalid = parser.name("invalid_lines")
    connection.exec_driver_sql(f"CREATE TEMP TABLE {invalid} (line_no integer) ON COMMIT DROP")
    # Every row is staged once; the lines with a rejected cell are kept apart, so the rejections are worked out
    # again for those rows only.
    # Staging and facts (and, on a replace, the daily rollups) are written by one statement from the same parsed
    # rows: RETURNING hands them on, so nothing is read back. Every data-modifying CTE runs to completion whether or
    # not the final SELECT reads it.
    facts = ", ".join(FACT_COLUMNS)
    ctes = [
        "staged AS (INSERT INTO staging_rows (organization_id, batch_id, line_no, raw, is_valid, date, value, uf, "
        f"category, attributes) SELECT {ids}, t.line_no, {raw}, "
        f"({value_error}) IS NULL AND ({date_error}) IS NULL AND ({uf_error}) IS NULL, "
        f"{date}, {value}, {uf}, {category}, {attributes} FROM {table.name} t{joins} WHERE t.bad_reason = '' "
        "RETURNING line_no, is_valid, date, value, uf, category, attributes)",
        f"promoted AS (INSERT INTO facts ({facts}) SELECT {int(org_id)}, {int(data_source_id)}, {int(batch_id)}, "
        "date, value, uf, category, attributes FROM staged WHERE is_valid RETURNING 1)",
        f"invalid AS (INSERT INTO {invalid} SELECT line_no FROM staged WHERE NOT is_valid RETURNING 1)",
    ]
    if daily_rollups:
        ctes.append(f"rolled AS ({rollups.daily_rows_sql('staged WHERE is_valid', org_id, data_source_id)})")
    # Enough memory for the rollups' GROUP BY to hash rather than sort a million rows on disk (to the transaction's
    # end: the load's later statements aggregate these rows too).
    connection.exec_driver_sql(f"SET LOCAL work_mem = '{int(get_settings().INGEST_WORK_MEM_MB)}MB'")
    with driver_connection(connection).cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT (SELECT count(*) FROM promoted), (SELECT count(*) FROM invalid)")
        promoted, invalid_rows = cursor.fetchone()
    checks = [(1, mapping["value"], value_cell, value_error), (2, mapping["date"], date_cell, date_error)]
    if positions.uf is not None:
        checks.append((3, mapping["uf"], table.cell(positions.uf), uf_error))
    cell_checks = ", ".join(
        f"({k}, {_literal(column[:255])}, NULLIF(left({cell}, {PREVIEW_CHARS}), ''), {error})"
        for k, column, cell, error in checks
    )
    # The Python path's COPY writes an empty preview as an empty CSV field, which Postgres reads as NULL.
    _execute(
        connection,
        'INSERT INTO rejected_rows (organization_id, batch_id, line_no, "column", value, reason) '
        f"SELECT {ids}, r.line_no, r.column_name, r.cell, r.reason FROM ("
        "SELECT t.line_no, 0 AS k, NULL::text AS column_name, NULLIF(t.bad_preview, '') AS cell, "
        f"left(t.bad_reason, 255) AS reason FROM {table.name} t WHERE t.bad_reason <> '' "
        f"UNION ALL SELECT t.line_no, e.k, e.column_name, e.cell, e.reason FROM {invalid} i "
        f"JOIN {table.name} t ON t.line_no = i.line_no{joins} "
        f"CROSS JOIN LATERAL (VALUES {cell_checks}) e(k, column_name, cell, reason) WHERE e.reason IS NOT NULL"
        ") r ORDER BY r.line_no, r.k",
    )
    lookups.drop(connection, *parser.temp)
    return Parsed(invalid_rows=int(invalid_rows), promoted=int(promoted))
