"""Every query on a tenant table starts from app/services/tenancy.py: a scan of the application code.

A SELECT, UPDATE or DELETE built on a tenant model, a `session.get` of one, or raw SQL naming a tenant table outside
tenancy.py fails this test, unless it is one of the deliberate exceptions listed below with its reason."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from app.models import Base

APP = Path(__file__).resolve().parents[1] / "app"
TENANT_TABLES = {table.name for table in Base.metadata.sorted_tables if "organization_id" in table.c}
TENANT_MODELS = {mapper.class_.__name__ for mapper in Base.registry.mappers if mapper.local_table.name in TENANT_TABLES}
BUILDERS = {"select", "update", "delete"}
RAW_SQL = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+\"?(" + "|".join(sorted(TENANT_TABLES)) + r")\b", re.I)

# module -> why it may name tenant tables in raw SQL (the database scopes these statements, not a filter).
RAW_SQL_EXCEPTIONS = {
    "services/ingest/staging.py": "COPY into a transaction's temporary table, moved by INSERT ... SELECT; the rows "
    "carry the batch's org and row-level security checks them",
    "services/indicators/custom_query.py": "custom SQL reads `facts` through the tenant view (Postgres) or a CTE of "
    "the caller's rows (SQLite)",
}


def _violations(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        first = node.args[0]
        model = first.id if isinstance(first, ast.Name) else None
        if model in TENANT_MODELS and (name in BUILDERS or name == "get"):
            found.append(f"line {node.lineno}: {name}({model}, ...)")
        if name in {"text", "exec_driver_sql"} and isinstance(first, ast.Constant | ast.JoinedStr):
            text = ast.unparse(first)
            if RAW_SQL.search(text):
                found.append(f"line {node.lineno}: raw SQL on a tenant table")
    return sorted(found, key=lambda item: int(item.split(":")[0].removeprefix("line ")))


def test_every_tenant_query_goes_through_tenancy():
    offenders = {}
    for path in sorted(APP.rglob("*.py")):
        module = path.relative_to(APP).as_posix()
        if module == "services/tenancy.py" or module.startswith("models/"):
            continue
        problems = _violations(path)
        if module in RAW_SQL_EXCEPTIONS:
            problems = [p for p in problems if "raw SQL" not in p]
        if problems:
            offenders[module] = problems
    assert offenders == {}, f"build these from app/services/tenancy.py (or name the exception there): {offenders}"


def test_the_scan_sees_what_it_must_refuse(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(session):\n"
        "    session.scalars(select(Dashboard))\n"
        "    session.get(DataSource, 1)\n"
        "    session.execute(update(Fact).values(value=0))\n"
        "    session.execute(text('SELECT * FROM facts'))\n"
        "    session.execute(select(User))\n",
        encoding="utf-8",
    )
    assert [v.split(":")[0] for v in _violations(sample)] == ["line 2", "line 3", "line 4", "line 5"]
    assert {"Dashboard", "DataSource", "Fact", "Membership", "AuditEvent"} <= TENANT_MODELS
