"""sql_guard: user-written SQL is one read-only SELECT over what the caller allows, or a clear refusal."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlglot import exp

from app.core.errors import Unprocessable
from app.services.sql_guard import ValidatedQuery, parse_sql, render_sql, validate_select

FACTS = {"facts"}
NOT_SELECT = "Only SELECT statements are allowed"
ONE_STATEMENT = "Only one statement is allowed"
NOT_AVAILABLE = "is not available; query 'facts'"
SYSTEM = "System catalogs are not available"
POSITIONAL = "Bind parameters must be named (:name)"


def _refusal(sql: str, **kwargs) -> str:
    with pytest.raises(Unprocessable) as info:
        validate_select(sql, **kwargs)
    assert info.value.code == "unsafe_sql"
    assert info.value.status_code == 422
    return info.value.detail


# (sql, expected fragment of the refusal) for custom indicators: allowed_tables={"facts"}, postgres
HOSTILE_INDICATOR_SQL = [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("-- only a comment", "empty"),
    ("SELECT 1; SELECT 2", ONE_STATEMENT),
    ("SELECT 1; DROP TABLE facts", ONE_STATEMENT),
    ("SELECT 1 /* ; */ ; DELETE FROM facts", ONE_STATEMENT),
    ("SELECT 1 -- comment\n; DROP TABLE users", ONE_STATEMENT),
    ("SELECT 1 -- ;\nDROP TABLE facts", "Could not parse the SQL"),
    ("INSERT INTO facts (value) VALUES (1)", f"{NOT_SELECT} (found INSERT)"),
    ("UPDATE facts SET value = 0", f"{NOT_SELECT} (found UPDATE)"),
    ("DELETE FROM facts", f"{NOT_SELECT} (found DELETE)"),
    (
        "MERGE INTO facts f USING facts g ON f.batch_id = g.batch_id WHEN MATCHED THEN DELETE",
        f"{NOT_SELECT} (found MERGE)",
    ),
    ("TRUNCATE facts", f"{NOT_SELECT} (found TRUNCATE)"),
    ("WITH d AS (DELETE FROM facts RETURNING *) SELECT * FROM d", f"{NOT_SELECT} (found DELETE)"),
    ("WITH u AS (UPDATE facts SET value = 0 RETURNING *) SELECT count(*) FROM u", f"{NOT_SELECT} (found UPDATE)"),
    ("WITH i AS (INSERT INTO facts (value) VALUES (1) RETURNING *) SELECT * FROM i", f"{NOT_SELECT} (found INSERT)"),
    ("SELECT * INTO newtable FROM facts", "SELECT ... INTO is not allowed"),
    ("SELECT * FROM facts FOR UPDATE", "Locking clauses (FOR UPDATE/SHARE) are not allowed"),
    ("SELECT * FROM facts FOR SHARE", "Locking clauses"),
    ("SELECT * FROM facts FOR NO KEY UPDATE SKIP LOCKED", "Locking clauses"),
    ("SELECT pg_read_file('/etc/passwd')", "Function pg_read_file is not allowed"),
    ("SELECT pg_sleep(10)", "Function pg_sleep is not allowed"),
    ("SELECT PG_SLEEP(10)", "Function PG_SLEEP is not allowed"),
    ('SELECT "pg_sleep"(10)', "Function pg_sleep is not allowed"),
    ("SELECT pg_catalog.pg_sleep(1)", "Function pg_catalog.pg_sleep is not allowed"),
    (
        "SELECT uf FROM facts WHERE value > (SELECT max(x) FROM (SELECT pg_sleep(1) AS x) s)",
        "Function pg_sleep is not allowed",
    ),
    ("SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)", "Function dblink is not allowed"),
    ("SELECT lo_import('/etc/passwd')", "Function lo_import is not allowed"),
    ("SELECT current_setting('app.current_org')", "Function current_setting is not allowed"),
    ("SELECT set_config('app.current_org', '2', false)", "Function set_config is not allowed"),
    ("SELECT pg_advisory_lock(1)", "Function pg_advisory_lock is not allowed"),
    ("SELECT txid_current()", "Function txid_current is not allowed"),
    ("SELECT query_to_xml('SELECT * FROM users', true, true, '')", "Function query_to_xml is not allowed"),
    ("SELECT nextval('facts_id_seq')", "Function nextval is not allowed"),
    ("SELECT * FROM pg_ls_dir('.')", "Function pg_ls_dir is not allowed"),
    ("SELECT * FROM users", f"Table 'users' {NOT_AVAILABLE}"),
    ("SELECT * FROM memberships", f"Table 'memberships' {NOT_AVAILABLE}"),
    ("SELECT * FROM organizations", f"Table 'organizations' {NOT_AVAILABLE}"),
    ("SELECT * FROM ingestion_batches", f"Table 'ingestion_batches' {NOT_AVAILABLE}"),
    ("SELECT * FROM staging_rows", f"Table 'staging_rows' {NOT_AVAILABLE}"),
    ("SELECT 1 UNION SELECT password FROM users", f"Table 'users' {NOT_AVAILABLE}"),
    ("SELECT (SELECT email FROM users LIMIT 1)", f"Table 'users' {NOT_AVAILABLE}"),
    (
        "SELECT f.value FROM facts f JOIN memberships m ON m.org_id = f.data_source_id",
        f"Table 'memberships' {NOT_AVAILABLE}",
    ),
    ("SELECT * FROM facts WHERE EXISTS (SELECT 1 FROM organizations)", f"Table 'organizations' {NOT_AVAILABLE}"),
    # a CTE does not launder the real table it reads, and only shadows names inside its own scope
    ("WITH users AS (SELECT * FROM users) SELECT * FROM users", f"Table 'users' {NOT_AVAILABLE}"),
    ("SELECT * FROM (WITH users AS (SELECT 1) SELECT * FROM users) a, users", f"Table 'users' {NOT_AVAILABLE}"),
    ('WITH "Users" AS (SELECT * FROM facts) SELECT * FROM users', f"Table 'users' {NOT_AVAILABLE}"),
    ("WITH a AS (SELECT * FROM b), b AS (SELECT * FROM facts) SELECT * FROM a", f"Table 'b' {NOT_AVAILABLE}"),
    ("SELECT * FROM public.facts", "must not be schema-qualified"),
    ("SELECT * FROM main.facts", "must not be schema-qualified"),
    ("SELECT f.value FROM public.facts AS f", "Table 'public.facts' must not be schema-qualified; query 'facts'"),
    ("SELECT * FROM pg_catalog.pg_tables", SYSTEM),
    ('SELECT * FROM "PG_CATALOG"."pg_user"', SYSTEM),
    ("SELECT * FROM information_schema.tables", SYSTEM),
    ("SELECT * FROM pg_shadow", SYSTEM),
    ("SELECT * FROM pg_authid", SYSTEM),
    ("SELECT * FROM sqlite_master", SYSTEM),
    ("SELECT * FROM generate_series(1, 10)", "Table functions are not allowed"),
    ("SELECT * FROM facts, LATERAL unnest(ARRAY[1, 2]) AS u", "Table functions are not allowed"),
    ("SELECT * FROM ROWS FROM (generate_series(1, 2))", "Table functions are not allowed"),
    ("SELECT * FROM json_each('{}')", "Table functions are not allowed"),
    ("SELECT * FROM :tbl", "Bind parameter :tbl can only stand for a value"),
    ("SELECT * FROM facts AS :alias", "Bind parameter :alias can only stand for a value"),
    ("COPY facts TO '/tmp/x'", f"{NOT_SELECT} (found COPY)"),
    ("VACUUM", f"{NOT_SELECT} (found VACUUM)"),
    ("SET ROLE postgres", f"{NOT_SELECT} (found SET)"),
    ("BEGIN", f"{NOT_SELECT} (found BEGIN)"),
    ("CALL proc()", f"{NOT_SELECT} (found CALL)"),
    ("DO $$ BEGIN PERFORM pg_sleep(1); END $$", f"{NOT_SELECT} (found DO)"),
    ("EXPLAIN ANALYZE DELETE FROM facts", f"{NOT_SELECT} (found EXPLAIN)"),
    ("CREATE TABLE x AS SELECT * FROM facts", f"{NOT_SELECT} (found CREATE)"),
    ("DROP TABLE facts", f"{NOT_SELECT} (found DROP)"),
    ("GRANT ALL ON facts TO public", f"{NOT_SELECT}"),
    ("SHOW ALL", f"{NOT_SELECT} (found SHOW)"),
    ("VALUES (1)", f"{NOT_SELECT} (found VALUES)"),
    ("SELECT * FROM facts WHERE uf = ?", POSITIONAL),
    ("SELECT * FROM facts WHERE uf = $1", POSITIONAL),
    ("SELECT * FROM facts WHERE uf = %s", POSITIONAL),
    ("SELECT * FROM facts WHERE uf = %(uf)s", POSITIONAL),
    # custom indicators get an allow-list of functions
    ("SELECT version()", "Function VERSION is not allowed"),
    ("SELECT current_user", "Function CURRENT_USER is not allowed"),
    ("SELECT inet_server_addr()", "Function inet_server_addr is not allowed"),
    ("SELECT public.my_func(value) FROM facts", "Function public.my_func is not allowed"),
    ("SELECT repeat('x', 1000000000) FROM facts", "is not allowed"),
    ("SELECT " + "1 + " * 6000 + "1", "too long"),
]


@pytest.mark.parametrize(("sql", "fragment"), HOSTILE_INDICATOR_SQL)
def test_indicator_sql_refused(sql: str, fragment: str) -> None:
    assert fragment in _refusal(sql, allowed_tables=FACTS)


def test_indicator_sql_refused_with_the_exact_message() -> None:
    assert _refusal("SELECT * FROM users", allowed_tables=FACTS) == "Table 'users' is not available; query 'facts'"
    assert _refusal("SELECT 1; SELECT 2", allowed_tables=FACTS) == "Only one statement is allowed"
    assert _refusal("DELETE FROM facts", allowed_tables=FACTS) == "Only SELECT statements are allowed (found DELETE)"
    assert _refusal("SELECT pg_sleep(1)", allowed_tables=FACTS) == "Function pg_sleep is not allowed"


def test_max_length_is_the_callers() -> None:
    sql = "SELECT value FROM facts WHERE uf = :uf"
    assert "too long" in _refusal(sql, allowed_tables=FACTS, max_length=len(sql) - 1)
    assert validate_select(sql, allowed_tables=FACTS, max_length=len(sql)).binds == ("uf",)


def test_deep_nesting_is_refused_not_crashing() -> None:
    detail = _refusal("SELECT " + "(" * 3000 + "1" + ")" * 3000, allowed_tables=FACTS, max_length=10_000)
    assert "nested too deeply" in detail or "Could not parse" in detail


# (sql, binds, tables) accepted for custom indicators on postgres
LEGIT_INDICATOR_SQL = [
    (
        "SELECT uf, sum(value) AS total FROM facts WHERE uf = :uf AND date >= :from GROUP BY uf",
        ("uf", "from"),
        ("facts",),
    ),
    (
        "SELECT sum(value) FROM facts WHERE date < :to AND date >= :from AND (uf = :uf OR :uf IS NULL)",
        ("to", "from", "uf"),
        ("facts",),
    ),
    (
        "WITH monthly AS (SELECT date_trunc('month', date) AS month, sum(value) AS total FROM facts GROUP BY 1) "
        "SELECT month, total FROM monthly ORDER BY month",
        (),
        ("facts",),
    ),
    (
        "SELECT date, value, row_number() OVER (PARTITION BY uf ORDER BY date DESC) AS rn, "
        "lag(value) OVER (ORDER BY date) AS previous FROM facts",
        (),
        ("facts",),
    ),
    (
        "SELECT CASE WHEN value > :threshold THEN 'alto' ELSE 'baixo' END AS faixa, count(*) FROM facts GROUP BY 1",
        ("threshold",),
        ("facts",),
    ),
    ("SELECT date_trunc('month', date) AS mes, avg(value) FROM facts GROUP BY 1", (), ("facts",)),
    ("SELECT extract(year FROM date) AS ano, max(value) FROM facts GROUP BY 1", (), ("facts",)),
    (
        "SELECT uf, value FROM facts WHERE category = 'a' UNION ALL SELECT uf, value FROM facts WHERE category = 'b'",
        (),
        ("facts",),
    ),
    (
        "SELECT attributes->>'Canal' AS canal, sum(value) FROM facts WHERE attributes->>'Canal' = :canal GROUP BY 1",
        ("canal",),
        ("facts",),
    ),
    (
        "SELECT s.uf, s.total FROM (SELECT uf, sum(value) AS total FROM facts GROUP BY uf) AS s WHERE s.total > 0",
        (),
        ("facts",),
    ),
    (
        "SELECT uf, sum(value) AS total FROM facts GROUP BY uf ORDER BY total DESC LIMIT :limit OFFSET 5",
        ("limit",),
        ("facts",),
    ),
    (
        "SELECT coalesce(nullif(trim(lower(uf)), ''), 'n/d') AS uf, round(avg(value)::numeric, 2), "
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY value) FROM facts GROUP BY 1",
        (),
        ("facts",),
    ),
    (
        "SELECT to_char(date, 'YYYY-MM'), count(DISTINCT batch_id) FILTER (WHERE value > 0) FROM facts "
        "WHERE uf = ANY(:ufs) AND date BETWEEN :from AND :to GROUP BY 1",
        ("ufs", "from", "to"),
        ("facts",),
    ),
    (
        "WITH RECURSIVE n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
        "SELECT f.value FROM facts f JOIN n ON n.i = f.data_source_id",
        (),
        ("facts",),
    ),
    ("(SELECT max(date) FROM facts)", (), ("facts",)),
]


@pytest.mark.parametrize(("sql", "binds", "tables"), LEGIT_INDICATOR_SQL)
def test_indicator_sql_accepted(sql: str, binds: tuple[str, ...], tables: tuple[str, ...]) -> None:
    result = validate_select(sql, allowed_tables=FACTS)
    assert isinstance(result, ValidatedQuery)
    assert result.binds == binds
    assert result.tables == tables
    for name in binds:
        assert f":{name}" in result.sql
    # the rendering is stable: validating it again yields the same query
    assert validate_select(result.sql, allowed_tables=FACTS) == result


def test_rendered_sql_is_exact_and_binds_stay_named() -> None:
    result = validate_select("select uf, sum(value) total from facts where uf = :uf group by uf", allowed_tables=FACTS)
    assert result.sql == "SELECT uf, SUM(value) AS total FROM facts WHERE uf = :uf GROUP BY uf"
    assert "%(" not in validate_select("SELECT :x::int", dialect="postgres").sql
    assert validate_select("SELECT id FROM t WHERE d > :from", dialect="bigquery").sql.endswith("d > :from")


def test_comments_are_stripped_from_the_rendered_sql() -> None:
    sql = (
        "/* header note */ SELECT sum(value) /* secret note */ FROM facts -- trailing remark\n"
        "WHERE uf = :uf -- another\n;"
    )
    result = validate_select(sql, allowed_tables=FACTS)
    for fragment in ("note", "remark", "another", "--", "/*"):
        assert fragment not in result.sql
    assert result.sql == "SELECT SUM(value) FROM facts WHERE uf = :uf"


def test_postgres_rendering_binds_through_sqlalchemy_text() -> None:
    result = validate_select("SELECT value FROM facts WHERE uf = :uf AND date >= :from::date", allowed_tables=FACTS)
    compiled = text(result.sql).compile(dialect=postgresql.psycopg2.dialect())
    assert set(compiled.params) == set(result.binds) == {"uf", "from"}
    assert "%(uf)s" in str(compiled) and "%(from)s" in str(compiled)


def test_sqlite_indicator_runs_with_its_binds() -> None:
    engine = create_engine("sqlite://", module=sqlite3)
    rows = [("2024-01-15", 10, "SP"), ("2024-01-20", 5, "SP"), ("2024-02-01", 7, "RJ"), ("2024-02-03", 1, "SP")]
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE facts (date TEXT, value NUMERIC, uf TEXT, category TEXT, attributes TEXT, "
                "data_source_id INT, batch_id INT)"
            )
        )
        conn.execute(
            text("INSERT INTO facts (date, value, uf) VALUES (:d, :v, :uf)"),
            [{"d": d, "v": v, "uf": uf} for d, v, uf in rows],
        )
        result = validate_select(
            "SELECT strftime('%Y-%m', date) AS mes, sum(value) AS total FROM facts -- per month\n"
            "WHERE uf = :uf AND date >= :from GROUP BY 1 ORDER BY 1",
            dialect="sqlite",
            allowed_tables=FACTS,
        )
        assert result.binds == ("uf", "from")
        got = conn.execute(text(result.sql), {"uf": "SP", "from": "2024-01-16"}).all()
    expected: dict[str, Decimal] = {}
    for d, v, uf in rows:
        if uf == "SP" and d >= "2024-01-16":
            expected[d[:7]] = expected.get(d[:7], Decimal(0)) + v
    assert [(mes, Decimal(str(total))) for mes, total in got] == sorted(expected.items())


def test_sqlite_indicator_functions_accepted() -> None:
    result = validate_select(
        "SELECT json_extract(attributes, '$.Canal') AS canal, date(date) AS dia, "
        "ifnull(substr(uf, 1, 1), '-') FROM facts WHERE category = :cat",
        dialect="sqlite",
        allowed_tables=FACTS,
    )
    assert result.binds == ("cat",)
    assert result.tables == ("facts",)


def test_indicator_refuses_snowflake_stages() -> None:
    detail = _refusal("SELECT * FROM @my_stage/file.csv", dialect="snowflake", allowed_tables=FACTS)
    assert "Only plain table names can be queried" in detail


def test_validated_sql_can_be_reparsed_and_rendered_with_keyword_binds() -> None:
    # plain sqlglot.parse_one() fails on ":from"; callers wrapping the query (e.g. a facts CTE) use parse_sql
    checked = validate_select(
        "SELECT sum(value) FROM facts WHERE date >= :from AND date < :to", dialect="sqlite", allowed_tables=FACTS
    )
    tree = parse_sql(checked.sql, "sqlite")
    tree.set(
        "with_",
        exp.With(
            expressions=[
                exp.CTE(
                    this=parse_sql("SELECT * FROM main.facts WHERE org = :org", "sqlite"),
                    alias=exp.TableAlias(this=exp.to_identifier("facts")),
                )
            ]
        ),
    )
    rendered = render_sql(tree, "postgres")
    assert rendered.startswith("WITH facts AS (SELECT * FROM main.facts WHERE org = :org) SELECT")
    assert rendered.endswith("date >= :from AND date < :to")


def test_allowed_tables_are_case_insensitive() -> None:
    assert validate_select("SELECT * FROM FACTS", allowed_tables={"Facts"}).tables == ("facts",)


# --- SQL data sources: allowed_tables=None, the customer's own database ---

LEGIT_SOURCE_SQL = [
    ("SELECT id, total FROM vendas WHERE id > :last", "postgres", ("last",), ("vendas",)),
    (
        "SELECT v.id, c.nome FROM vendas v JOIN clientes c ON c.id = v.cliente_id WHERE v.criado_em >= :since",
        "postgres",
        ("since",),
        ("vendas", "clientes"),
    ),
    ("SELECT * FROM sales.vendas", "postgres", (), ("sales.vendas",)),
    ("SELECT * FROM `vendas`", "mysql", (), ("vendas",)),
    ("SELECT * FROM `loja`.`vendas` WHERE id > :last LIMIT 500", "mysql", ("last",), ("loja.vendas",)),
    ("SELECT TOP 100 id, total FROM dbo.vendas WHERE id > :last ORDER BY id", "tsql", ("last",), ("dbo.vendas",)),
    ("SELECT id FROM vendas WHERE ROWNUM <= 10 AND id > :last", "oracle", ("last",), ("vendas",)),
    ("SELECT id FROM analytics.public.vendas WHERE id > :last", "snowflake", ("last",), ("analytics.public.vendas",)),
    ("SELECT id FROM `proj.loja.vendas` WHERE id > :last", "bigquery", ("last",), ("proj.loja.vendas",)),
    ("SELECT id FROM vendas WHERE id > :last", "sqlite", ("last",), ("vendas",)),
    ("SELECT * FROM generate_series(1, 3)", "postgres", (), ()),
    ("SELECT COUNT(*) FROM srv.loja.dbo.vendas", "tsql", (), ("srv.loja.dbo.vendas",)),
    ("WITH vendas AS (SELECT * FROM vendas WHERE ok) SELECT * FROM vendas", "postgres", (), ("vendas",)),
    (
        "WITH recent AS (SELECT * FROM vendas WHERE id > :last) SELECT my_schema.fmt(total) FROM recent",
        "postgres",
        ("last",),
        ("vendas",),
    ),
]


@pytest.mark.parametrize(("sql", "dialect", "binds", "tables"), LEGIT_SOURCE_SQL)
def test_source_sql_accepted(sql: str, dialect: str, binds: tuple[str, ...], tables: tuple[str, ...]) -> None:
    result = validate_select(sql, dialect=dialect)
    assert result.binds == binds
    assert result.tables == tables
    for name in binds:
        assert f":{name}" in result.sql


HOSTILE_SOURCE_SQL = [
    ("SELECT * FROM vendas; DELETE FROM vendas", "postgres", ONE_STATEMENT),
    ("DELETE FROM vendas", "postgres", f"{NOT_SELECT} (found DELETE)"),
    ("UPDATE vendas SET total = 0", "mysql", f"{NOT_SELECT} (found UPDATE)"),
    ("WITH d AS (DELETE FROM vendas RETURNING *) SELECT * FROM d", "postgres", f"{NOT_SELECT} (found DELETE)"),
    ("SELECT pg_sleep(5)", "postgres", "Function pg_sleep is not allowed"),
    ("SELECT * FROM pg_ls_dir('.')", "postgres", "Function pg_ls_dir is not allowed"),
    (
        "SELECT * FROM vendas WHERE id = current_setting('app.current_org')::int",
        "postgres",
        "Function current_setting is not allowed",
    ),
    ("SELECT LOAD_FILE('/etc/passwd')", "mysql", "Function LOAD_FILE is not allowed"),
    ("SELECT SLEEP(5)", "mysql", "Function SLEEP is not allowed"),
    ("SELECT BENCHMARK(1000000, MD5('x'))", "mysql", "Function BENCHMARK is not allowed"),
    ("SELECT * FROM vendas INTO OUTFILE '/tmp/x'", "mysql", "SELECT ... INTO is not allowed"),
    ("SELECT * INTO OUTFILE '/tmp/x' FROM vendas", "mysql", "SELECT ... INTO is not allowed"),
    ("SELECT id INTO @v FROM vendas", "mysql", "SELECT ... INTO is not allowed"),
    ("SELECT * FROM vendas LOCK IN SHARE MODE", "mysql", "Locking clauses"),
    ("SELECT @@version", "mysql", "System variables (@@name) are not allowed"),
    ("SELECT @@version", "tsql", "System variables (@@name) are not allowed"),
    ("SELECT * FROM vendas WHERE id > @last", "tsql", POSITIONAL),
    ("SELECT * FROM vendas WHERE id > ?", "sqlite", POSITIONAL),
    ("SELECT * FROM mysql.user", "mysql", SYSTEM),
    ("SELECT * FROM information_schema.tables", "mysql", SYSTEM),
    ("SELECT * FROM pg_catalog.pg_user", "postgres", SYSTEM),
    ("SELECT * FROM pg_settings", "postgres", SYSTEM),
    ("SELECT * FROM sqlite_schema", "sqlite", SYSTEM),
    ("SELECT * FROM sys.sql_logins", "tsql", SYSTEM),
    ("SELECT * FROM [sys].[objects]", "tsql", SYSTEM),
    ("SELECT name FROM srv.master.sys.databases", "tsql", SYSTEM),
    ("SELECT * FROM v$session", "oracle", SYSTEM),
    ("SELECT * FROM proj.loja.INFORMATION_SCHEMA.TABLES", "bigquery", SYSTEM),
    ("SELECT xp_cmdshell('whoami')", "tsql", "Function xp_cmdshell is not allowed"),
    ("SELECT sys.fn_varbintohexstr(0x01)", "tsql", "Function sys.fn_varbintohexstr is not allowed"),
    ("SELECT * FROM OPENROWSET('SQLNCLI', 'Server=evil', 'SELECT 1')", "tsql", "Function OPENROWSET is not allowed"),
    ("EXEC xp_cmdshell 'whoami'", "tsql", NOT_SELECT),
    ("SELECT dbms_lock.sleep(5) FROM dual", "oracle", "Function dbms_lock.sleep is not allowed"),
    ("SELECT utl_http.request('http://evil') FROM dual", "oracle", "Function utl_http.request is not allowed"),
    ("SELECT system$wait(5)", "snowflake", "Function system$wait is not allowed"),
    ("SELECT * FROM EXTERNAL_QUERY('conn', 'SELECT 1')", "bigquery", "Function EXTERNAL_QUERY is not allowed"),
    ("SELECT load_extension('/tmp/evil.so')", "sqlite", "Function load_extension is not allowed"),
    ("SELECT 1", "klingon", "Unsupported SQL dialect"),
]


@pytest.mark.parametrize(("sql", "dialect", "fragment"), HOSTILE_SOURCE_SQL)
def test_source_sql_refused(sql: str, dialect: str, fragment: str) -> None:
    assert fragment in _refusal(sql, dialect=dialect)
