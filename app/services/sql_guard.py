"""Validate user-written SQL (custom indicators, SQL data sources) as one read-only SELECT, via sqlglot's AST."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, NoReturn

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError
from sqlglot.tokens import Token, TokenType

from app.core.errors import Unprocessable

UNSAFE_SQL = "unsafe_sql"


def _classes(*names: str) -> tuple[type[exp.Expr], ...]:
    # getattr so a class renamed or dropped by a sqlglot upgrade does not break the import
    return tuple(cls for name in names if (cls := getattr(exp, name, None)) is not None)


# Statement-like nodes refused anywhere in the tree (DML/DDL base classes cover Insert/Update/Delete/Merge/Copy/Create).
DENIED_NODES = _classes(
    "DML",
    "DDL",
    "Drop",
    "Alter",
    "AlterSession",
    "TruncateTable",
    "Command",
    "Set",
    "SetItem",
    "Grant",
    "Revoke",
    "Transaction",
    "Commit",
    "Rollback",
    "Pragma",
    "Use",
    "Attach",
    "Detach",
    "LoadData",
    "Copy",
    "Describe",
    "Show",
    "Analyze",
    "Cache",
    "Uncache",
    "Refresh",
    "Kill",
    "Comment",
    "Summarize",
    "Export",
    "Install",
    "Execute",
    "ExecuteSql",
    "Declare",
    "DeclareItem",
    "Block",
    "IfBlock",
    "WhileBlock",
    "LoopBlock",
    "RepeatBlock",
    "ForIn",
    "Iterate",
    "Leave",
    "Return",
    "CaseStatement",
    "StoredProcedure",
    "UserDefinedFunction",
    "Undrop",
    "SwapTable",
    "ConditionalInsert",
    "MultitableInserts",
    "Directory",
    "ConnectTo",
    "Disconnect",
    "EndStatement",
    "Get",
    "Put",
    "ListStage",
    "DirectoryStage",
    "Credentials",
    "QueryTransform",
    "LockingStatement",
    "Returning",
    "OnConflict",
)
_NODE_LABELS = {
    "truncatetable": "TRUNCATE",
    "transaction": "BEGIN",
    "loaddata": "LOAD DATA",
    "querytransform": "TRANSFORM",
    "executesql": "EXECUTE",
    "setitem": "SET",
}

# Functions refused in both modes; a trailing "*" is a prefix. Matched on the lower-cased name and on every qualifier.
DENIED_FUNCTIONS = frozenset(
    {
        # Postgres: server files, sleeps, locks, settings, backends, large objects, remote connections, side effects
        "pg_*",
        "lo_*",
        "loread",
        "lowrite",
        "dblink*",
        "txid_*",
        "set_config",
        "current_setting",
        "nextval",
        "setval",
        "query_to_xml*",
        "table_to_xml*",
        "schema_to_xml*",
        "database_to_xml*",
        "cursor_to_xml*",
        # SQLite
        "load_extension",
        "readfile",
        "writefile",
        "fts3_tokenizer",
        "edit",
        # MySQL
        "sleep",
        "benchmark",
        "load_file",
        "sys_exec",
        "sys_eval",
        "get_lock",
        "release_lock",
        "release_all_locks",
        "is_free_lock",
        "is_used_lock",
        "master_pos_wait",
        "source_pos_wait",
        # SQL Server
        "xp_*",
        "sp_*",
        "openrowset",
        "opendatasource",
        "openquery",
        "fn_xe_file_target_read_file",
        "fn_get_audit_file",
        "fn_trace_gettable",
        # Oracle, Snowflake, BigQuery, DuckDB-style file readers
        "dbms_*",
        "utl_*",
        "httpuritype",
        "system$*",
        "external_query",
        "read_*",
    }
)

# Custom indicators only: the sqlglot function classes a tenant may call (anything else is refused).
INDICATOR_FUNCTION_CLASSES = _classes(
    # aggregates
    "Sum",
    "Avg",
    "Min",
    "Max",
    "Count",
    "CountIf",
    "Stddev",
    "StddevPop",
    "StddevSamp",
    "Variance",
    "VariancePop",
    "PercentileCont",
    "PercentileDisc",
    "Median",
    "ApproxDistinct",
    "GroupConcat",
    "ArrayAgg",
    "LogicalAnd",
    "LogicalOr",
    "Corr",
    "CovarPop",
    "CovarSamp",
    "AnyValue",
    "First",
    "Last",
    # window functions
    "RowNumber",
    "Rank",
    "DenseRank",
    "PercentRank",
    "CumeDist",
    "Ntile",
    "Lag",
    "Lead",
    "FirstValue",
    "LastValue",
    "NthValue",
    # dates
    "TimestampTrunc",
    "DateTrunc",
    "Extract",
    "TimeToStr",
    "StrToTime",
    "StrToDate",
    "TsOrDsToDate",
    "TsOrDsToTimestamp",
    "Date",
    "CurrentDate",
    "CurrentTimestamp",
    "CurrentTime",
    "DateAdd",
    "DateSub",
    "DateDiff",
    "TimestampAdd",
    "TimestampSub",
    "TimestampDiff",
    "TsOrDsAdd",
    "TsOrDsDiff",
    "Year",
    "Quarter",
    "Month",
    "Week",
    "WeekOfYear",
    "Day",
    "DayOfWeek",
    "DayOfMonth",
    "DayOfYear",
    "DateFromParts",
    "ToChar",
    "LastDay",
    "AddMonths",
    "DateStrToDate",
    "TimeStrToTime",
    # strings
    "Lower",
    "Upper",
    "Trim",
    "Substring",
    "Concat",
    "ConcatWs",
    "Replace",
    "Length",
    "Left",
    "Right",
    "StrPosition",
    "Initcap",
    "SplitPart",
    # numbers, conditionals, casts
    "Round",
    "Abs",
    "Ceil",
    "Floor",
    "Sqrt",
    "Pow",
    "Ln",
    "Log",
    "Exp",
    "Sign",
    "Mod",
    "SafeDivide",
    "Coalesce",
    "Nullif",
    "Greatest",
    "Least",
    "Case",
    "If",
    "Cast",
    "TryCast",
    "Exists",
    "Array",
    "Any",
    "All",
    # operators sqlglot models as functions: AND/OR/XOR, COLLATE, ^, array @> <@ &&, regex ~ ~*
    "And",
    "Or",
    "Xor",
    "Collate",
    "ArrayContains",
    "ArrayContainedBy",
    "ArrayOverlaps",
    "RegexpLike",
    "RegexpILike",
    # JSON access (->, ->>, #>, #>>, ?, json_extract)
    "JSONExtract",
    "JSONExtractScalar",
    "JSONBExtract",
    "JSONBExtractScalar",
    "JSONBContains",
    "JSONBContainsTopKey",
    "JSONBContainsAnyTopKeys",
    "JSONBContainsAllTopKeys",
)
# Custom indicators only: ordinary built-ins sqlglot parses as Anonymous functions.
INDICATOR_ANONYMOUS_FUNCTIONS = frozenset(
    {
        "age",
        "make_date",
        "date_part",
        "to_char",
        "to_date",
        "to_number",
        "julianday",
        "json_extract_path_text",
        "jsonb_extract_path_text",
        "json_extract_path",
        "jsonb_extract_path",
    }
)

# Schemas/databases whose relations are system catalogs, and catalog relation names (prefix with "*").
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast", "mysql", "performance_schema", "sys"})
SYSTEM_RELATIONS = frozenset(
    {
        "pg_*",
        "sqlite_*",
        "sysobjects",
        "syscolumns",
        "sysusers",
        "syslogins",
        "sysdatabases",
        "sysprocesses",
        "dba_*",
        "v$*",
        "gv$*",
        "all_users",
    }
)

# Nodes that put rows in FROM from something other than a table or a subquery.
_TABLE_FUNCTION_NODES = _classes("Unnest", "TableFromRows", "Generator", "Explode", "ExplodingGenerateSeries")


@dataclass(frozen=True)
class ValidatedQuery:
    sql: str  # re-rendered from the AST for the target dialect, comments stripped, binds as :name
    binds: tuple[str, ...]  # named bind parameters, in order of first appearance, deduplicated
    tables: tuple[str, ...]  # referenced table names (lower-case, dotted if qualified), CTE names excluded


def validate_select(
    sql: str, *, dialect: str = "postgres", allowed_tables: set[str] | None = None, max_length: int = 20_000
) -> ValidatedQuery:
    """Raise Unprocessable(code="unsafe_sql") naming the reason, or return the validated query.

    allowed_tables=None means any table (SQL sources); {"facts"} for custom indicators.
    """
    if not sql or not sql.strip():
        _refuse("The SQL is empty")
    if len(sql) > max_length:
        _refuse(f"The SQL is too long ({len(sql)} characters; the limit is {max_length})")
    sql_dialect = _dialect(dialect)
    allowed = {name.lower() for name in allowed_tables} if allowed_tables is not None else None
    try:
        tree = _parse_one(sql, sql_dialect)
        _check_statements(tree)
        binds = _check_binds(tree)
        _check_denied_functions(tree)
        tables = _check_tables(tree, sql_dialect, allowed)
        if allowed is not None:
            _check_indicator_functions(tree, sql_dialect)
        rendered = _render(tree, sql_dialect)
    except RecursionError:
        _refuse("The SQL is nested too deeply")
    return ValidatedQuery(sql=rendered, binds=binds, tables=tables)


def parse_sql(sql: str, dialect: str = "postgres") -> exp.Expr:
    """Parse one statement (e.g. ValidatedQuery.sql) the way the guard does: plain sqlglot rejects binds like :from."""
    return _parse_one(sql, _dialect(dialect))


def render_sql(tree: exp.Expr, dialect: str = "postgres") -> str:
    """Render an AST for `dialect` without comments and with binds as :name (what SQLAlchemy text() expects)."""
    return _render(tree, _dialect(dialect))


def _refuse(detail: str) -> NoReturn:
    raise Unprocessable(detail, code=UNSAFE_SQL)


def _dialect(name: str) -> Dialect:
    try:
        return Dialect.get_or_raise(name)
    except ValueError:
        _refuse(f"Unsupported SQL dialect '{name}'")


def _parse_one(sql: str, dialect: Dialect) -> exp.Expr:
    tokens: list[Token] = []
    try:
        tokens = dialect.tokenize(sql)
        statements = _parser_class(type(dialect))(dialect=dialect).parse(tokens, sql)
    except ParseError as err:
        # sqlglot cannot parse MySQL's SELECT ... INTO OUTFILE/DUMPFILE/@var; name the real reason
        if (
            tokens
            and tokens[0].token_type in (TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN)
            and any(token.token_type == TokenType.INTO for token in tokens)
        ):
            _refuse("SELECT ... INTO is not allowed")
        first = err.errors[0] if err.errors else {}
        where = f" (line {first['line']}, column {first['col']})" if first.get("line") else ""
        _refuse(f"Could not parse the SQL: {first.get('description') or str(err).splitlines()[0]}{where}")
    except SqlglotError as err:
        _refuse(f"Could not parse the SQL: {str(err).splitlines()[0][:200]}")
    # A trailing ";" or a comment after it is not a statement; anything else is
    real = [s for s in statements if s is not None and not (isinstance(s, exp.Semicolon) and not s.this)]
    if len(real) != 1:
        _refuse("Only one statement is allowed" if real else "The SQL is empty")
    return real[0]


def _colon_placeholder(self: Any) -> exp.Expr | None:
    # ":name" directly followed by a word (keywords such as :from/:to included, as SQLAlchemy text() binds them)
    curr, prev = self._curr, self._prev
    if not curr or curr.start != prev.end + 1:
        return None
    word = self.sql[curr.start : curr.end + 1]
    if not word.isidentifier() or not word.isascii() or word != curr.text:
        return None
    self._advance()
    placeholder = self.expression(exp.Placeholder(this=word))
    placeholder.meta["start"] = prev.start
    return placeholder


@cache
def _parser_class(dialect_cls: type[Dialect]) -> type:
    base = dialect_cls.parser_class
    parsers = {**base.PLACEHOLDER_PARSERS, TokenType.COLON: _colon_placeholder}
    return type(f"Guarded{base.__name__}", (base,), {"PLACEHOLDER_PARSERS": parsers})


@cache
def _generator_class(dialect_cls: type[Dialect]) -> type:
    # Every dialect renders named binds its own way (%(name)s on postgres, @name on bigquery); SQLAlchemy wants :name
    base = dialect_cls.generator_class
    transforms = {**base.TRANSFORMS, exp.Placeholder: lambda self, node: f":{node.name}"}
    return type(f"Guarded{base.__name__}", (base,), {"TRANSFORMS": transforms})


def _render(tree: exp.Expr, dialect: Dialect) -> str:
    generator = _generator_class(type(dialect))(dialect=dialect, comments=False, unsupported_level=ErrorLevel.RAISE)
    try:
        return generator.generate(tree, copy=True)
    except SqlglotError as err:
        _refuse(f"The SQL cannot be rendered safely for {dialect.__class__.__name__}: {err}")


def _check_statements(tree: exp.Expr) -> None:
    root = tree.unnest() if isinstance(tree, exp.Subquery) else tree
    if not isinstance(root, (exp.Select, exp.SetOperation)):
        _refuse(f"Only SELECT statements are allowed (found {_label(root)})")
    for node in tree.walk():
        if isinstance(node, exp.Into):
            _refuse("SELECT ... INTO is not allowed")
        if isinstance(node, exp.Lock):
            _refuse("Locking clauses (FOR UPDATE/SHARE) are not allowed")
        if isinstance(node, DENIED_NODES):
            _refuse(f"Only SELECT statements are allowed (found {_label(node)})")


def _label(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this or "a command").upper()
    return _NODE_LABELS.get(node.key, node.key.upper())


def _check_binds(tree: exp.Expr) -> tuple[str, ...]:
    placeholders = []
    for node in tree.walk():
        if isinstance(node, exp.SessionParameter) or (
            isinstance(node, exp.Parameter) and isinstance(node.this, exp.Parameter)
        ):
            _refuse("System variables (@@name) are not allowed")
        if isinstance(node, exp.Parameter) or (
            isinstance(node, exp.Placeholder) and not isinstance(node.args.get("this"), str)
        ):
            _refuse("Bind parameters must be named (:name); positional ? or $1 are not allowed")
        if isinstance(node, exp.Placeholder):
            if isinstance(
                node.parent, (exp.Table, exp.TableAlias, exp.Column, exp.Dot, exp.DataType)
            ) or node.arg_key in ("alias", "to"):
                _refuse(f"Bind parameter :{node.name} can only stand for a value")
            placeholders.append(node)
    placeholders.sort(key=lambda node: node.meta.get("start", 0))
    return tuple(dict.fromkeys(node.name for node in placeholders))


def _matches(name: str, patterns: frozenset[str]) -> bool:
    return name in patterns or any(p.endswith("*") and name.startswith(p[:-1]) for p in patterns)


def _qualifiers(node: exp.Func) -> list[str]:
    """The schema/package names in front of a qualified call such as pg_catalog.pg_sleep() or dbms_lock.sleep()."""
    if isinstance(node.parent, exp.Dot) and node.arg_key == "expression":
        return [part.name.lower() for part in node.parent.this.find_all(exp.Identifier)]
    return []


def _function_names(node: exp.Func) -> list[str]:
    if isinstance(node, exp.Anonymous):
        names = [node.name]
    else:
        try:
            names = [node.key, *node.sql_names()]
        except NotImplementedError:  # an abstract sqlglot class has no SQL name
            names = [node.key]
    return [name.lower() for name in names if name] + _qualifiers(node)


def _display_name(node: exp.Func, dialect: Dialect | None = None) -> str:
    if isinstance(node, exp.Anonymous):
        name = node.name
    else:
        name = node.sql(dialect=dialect, comments=False).split("(", 1)[0].strip() or node.sql_name()
    if isinstance(node.parent, exp.Dot) and _qualifiers(node):
        name = f"{node.parent.this.sql(dialect=dialect, comments=False)}.{name}"
    return name[:80]


def _check_denied_functions(tree: exp.Expr) -> None:
    for node in tree.find_all(exp.Func):
        if any(_matches(name, DENIED_FUNCTIONS) for name in _function_names(node)) or any(
            part in SYSTEM_SCHEMAS for part in _qualifiers(node)
        ):
            _refuse(f"Function {_display_name(node)} is not allowed")


def _check_indicator_functions(tree: exp.Expr, dialect: Dialect) -> None:
    for node in tree.find_all(exp.Func):
        qualified = bool(_qualifiers(node))
        if isinstance(node, exp.Anonymous):
            ok = node.name.lower() in INDICATOR_ANONYMOUS_FUNCTIONS
        else:
            ok = isinstance(node, INDICATOR_FUNCTION_CLASSES)
        if qualified or not ok:
            _refuse(f"Function {_display_name(node, dialect)} is not allowed")


def _name_identifiers(table: exp.Table) -> list[exp.Identifier] | None:
    """The identifiers of a table's dotted name (4-part tsql/bigquery names included), or None if it is no name."""

    def flatten(node: exp.Expr | None) -> list[exp.Identifier] | None:
        if isinstance(node, exp.Identifier):
            return [node]
        if isinstance(node, exp.Dot):
            left, right = flatten(node.this), flatten(node.expression)
            return left + right if left is not None and right is not None else None
        return None

    tail = flatten(table.this)
    if tail is None:
        return None
    return [part for key in ("catalog", "db") if isinstance(part := table.args.get(key), exp.Identifier)] + tail


def _check_tables(tree: exp.Expr, dialect: Dialect, allowed: set[str] | None) -> tuple[str, ...]:
    found: list[tuple[int, str]] = []
    for node in tree.walk():
        if allowed is not None and (
            isinstance(node, _TABLE_FUNCTION_NODES)
            or (isinstance(node, exp.Lateral) and not isinstance(node.this, exp.Subquery))
        ):
            _refuse(f"Table functions are not allowed; query {_names(allowed)}")
        if not isinstance(node, exp.Table):
            continue
        identifiers = _name_identifiers(node)
        if identifiers is None:
            # a table function (FROM f(...)), or a stage/path such as snowflake's @stage
            if allowed is not None:
                if node.this is None or isinstance(node.this, (exp.Func, exp.Table)):
                    _refuse(f"Table functions are not allowed; query {_names(allowed)}")
                _refuse(f"Only plain table names can be queried; query {_names(allowed)}")
            continue
        # BigQuery may keep `ds.INFORMATION_SCHEMA.TABLES` as one identifier, hence the split
        parts = [piece.lower() for ident in identifiers for piece in ident.name.split(".")]
        if any(part in SYSTEM_SCHEMAS for part in parts[:-1]) or _matches(parts[-1], SYSTEM_RELATIONS):
            _refuse("System catalogs are not available")
        if _is_cte_reference(node, dialect):
            continue
        name = ".".join(parts)
        if allowed is not None:
            written = ".".join(ident.name for ident in identifiers)
            if len(parts) > 1:
                _refuse(f"Table '{written}' must not be schema-qualified; query {_names(allowed)}")
            if name not in allowed:
                _refuse(f"Table '{written}' is not available; query {_names(allowed)}")
        found.append((identifiers[0].meta.get("start", 0), name))
    found.sort(key=lambda item: item[0])
    return tuple(dict.fromkeys(name for _, name in found))


def _names(allowed: set[str]) -> str:
    return ", ".join(f"'{name}'" for name in sorted(allowed)) or "no tables"


def _is_cte_reference(table: exp.Table, dialect: Dialect) -> bool:
    """Whether an unqualified table names a CTE visible at its position (WITH scoping, RECURSIVE included)."""
    if table.args.get("db") or table.args.get("catalog") or not isinstance(table.this, exp.Identifier):
        return False
    name = dialect.normalize_identifier(table.this.copy()).name
    path: list[exp.Expr] = [table]
    node = table.parent
    while node is not None:
        with_ = node.args.get("with_") or node.args.get("with")
        if isinstance(with_, exp.With):
            ctes = list(with_.expressions)
            if len(path) >= 2 and path[-1] is with_:
                # Inside CTE k: without RECURSIVE only CTEs 0..k-1 are visible, so "x AS (... FROM x)" is the real x
                k = next((i for i, cte in enumerate(ctes) if cte is path[-2]), len(ctes))
                ctes = ctes if with_.args.get("recursive") else ctes[:k]
            if any(_cte_name(cte, dialect) == name for cte in ctes):
                return True
        path.append(node)
        node = node.parent
    return False


def _cte_name(cte: exp.Expr, dialect: Dialect) -> str | None:
    alias = cte.args.get("alias")
    ident = alias.this if isinstance(alias, exp.TableAlias) else None
    return dialect.normalize_identifier(ident.copy()).name if isinstance(ident, exp.Identifier) else None
