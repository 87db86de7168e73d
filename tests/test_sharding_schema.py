"""Ready for sharding by org: the live schema keeps every tenant table distributable by organization_id (Citus).

The rules (docs/SCALING.md): a tenant table (one with an `organization_id` column) has a primary key, and it and every
unique constraint or unique index include `organization_id` among their key columns; a foreign key from a tenant
table to another tenant table pairs `organization_id` with `organization_id`; a tenant table may reference the
reference tables (organizations, users), and nothing else references a tenant table.

The schema is read from the live database built by the migrations: pg_catalog on Postgres. SQLite keeps rowid
primary keys and single-column foreign keys (migration 0018: it cannot autoincrement a composite key and is never
sharded), so there only the unique keys are checked; the key rules run in the Postgres pass.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, text

from app.core.db import get_engine
from app.models import Base
from tests.conftest import is_postgres

ORG = "organization_id"
REFERENCE_TABLES = frozenset({"organizations", "users"})
SCALING_DOC = Path(__file__).resolve().parents[1] / "docs" / "SCALING.md"
postgres_only = pytest.mark.skipif(
    not is_postgres(),
    reason="composite keys are PostgreSQL's (SQLite keeps rowid keys, migration 0018); these run in the Postgres pass",
)


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]


@dataclass
class TableKeys:
    """What the rules look at in one table: its columns, primary key, unique keys (by name) and foreign keys."""

    name: str
    columns: set[str] = field(default_factory=set)
    primary_key: tuple[str, ...] = ()
    uniques: dict[str, tuple[str, ...]] = field(default_factory=dict)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def is_tenant(self) -> bool:
        return ORG in self.columns


def violations(tables: dict[str, TableKeys], *, keys: bool = True) -> list[str]:
    """Every broken rule, one line each (keys=False: only the unique keys, what SQLite can keep)."""
    found: list[str] = []
    for table in sorted(tables.values(), key=lambda t: t.name):
        if table.is_tenant:
            if keys and ORG not in table.primary_key:
                found.append(f"{table.name}: primary key {table.primary_key} lacks {ORG}")
            found += [
                f"{table.name}: unique {name} {columns} lacks {ORG}"
                for name, columns in sorted(table.uniques.items())
                if ORG not in columns
            ]
        for fk in table.foreign_keys if keys else []:
            referred = tables.get(fk.referred_table)
            if fk.referred_table in REFERENCE_TABLES and table.name not in REFERENCE_TABLES:
                continue  # to a reference table: every node has all its rows
            if referred is None or not (table.is_tenant and referred.is_tenant):
                found.append(f"{table.name}: foreign key {fk.name} to {fk.referred_table} crosses tenancy")
            elif (ORG, ORG) not in zip(fk.columns, fk.referred_columns, strict=True):
                found.append(f"{table.name}: foreign key {fk.name} {fk.columns} does not pair {ORG} with {ORG}")
    return found


_PG_COLUMNS = """
SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind IN ('r', 'p') AND a.attnum > 0
  AND NOT a.attisdropped
"""
# Key columns in key order (an index's INCLUDE columns do not make it unique; expressions have no column).
_PG_CONSTRAINTS = """
SELECT cl.relname, con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.pos),
       ref.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.pos)
FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid LEFT JOIN pg_class ref ON ref.oid = con.confrelid
WHERE cl.relnamespace = CAST(:schema AS regnamespace) AND con.contype IN ('p', 'u', 'f')
"""
_PG_UNIQUE_INDEXES = """
SELECT t.relname, i.relname,
       ARRAY(SELECT a.attname FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.num ORDER BY k.pos)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relnamespace = CAST(:schema AS regnamespace) AND x.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.contype IN ('p', 'u'))
"""


def read_postgres(conn: Connection, schema: str) -> dict[str, TableKeys]:
    """The keys of every table of a schema, from pg_catalog."""
    tables: dict[str, TableKeys] = {}
    params = {"schema": schema}
    for table, column in conn.execute(text(_PG_COLUMNS), params):
        tables.setdefault(table, TableKeys(table)).columns.add(column)
    for table, name, kind, columns, referred, referred_columns in conn.execute(text(_PG_CONSTRAINTS), params):
        keys = tables[table]
        if kind == "p":
            keys.primary_key = tuple(columns)
        elif kind == "u":
            keys.uniques[name] = tuple(columns)
        else:
            keys.foreign_keys.append(ForeignKey(name, tuple(columns), referred, tuple(referred_columns)))
    for table, name, columns in conn.execute(text(_PG_UNIQUE_INDEXES), params):
        tables[table].uniques[name] = tuple(columns)
    return tables


def read_with_inspector(conn: Connection) -> dict[str, TableKeys]:
    """The same from SQLAlchemy's inspector (SQLite: unique constraints and unique indexes)."""
    insp = inspect(conn)
    tables: dict[str, TableKeys] = {}
    for name in insp.get_table_names():
        keys = tables[name] = TableKeys(name, {c["name"] for c in insp.get_columns(name)})
        keys.primary_key = tuple(insp.get_pk_constraint(name)["constrained_columns"])
        for i, uq in enumerate(insp.get_unique_constraints(name)):
            keys.uniques[uq["name"] or f"unnamed_{i}"] = tuple(uq["column_names"])
        for ix in insp.get_indexes(name):
            if ix["unique"]:
                keys.uniques[str(ix["name"])] = tuple(c for c in ix["column_names"] if c)
        for fk in insp.get_foreign_keys(name):
            columns, referred = tuple(fk["constrained_columns"]), tuple(fk["referred_columns"])
            keys.foreign_keys.append(ForeignKey(str(fk["name"]), columns, fk["referred_table"], referred))
    return tables


def _live_tables() -> dict[str, TableKeys]:
    with get_engine().connect() as conn:
        if is_postgres():
            return read_postgres(conn, conn.execute(text("SELECT current_schema()")).scalar_one())
        return read_with_inspector(conn)


def _model_tenant_tables() -> set[str]:
    return {t.name for t in Base.metadata.sorted_tables if ORG in t.c}


def test_the_live_schema_has_every_tenant_table_of_the_models():
    tables = _live_tables()
    tenant = {name for name, keys in tables.items() if keys.is_tenant}
    assert tenant == _model_tenant_tables()
    assert set(tables) >= REFERENCE_TABLES and not (REFERENCE_TABLES & tenant)


@postgres_only
def test_every_tenant_table_is_ready_for_distribution_by_org():
    assert violations(_live_tables()) == []


def test_unique_keys_of_tenant_tables_include_the_org():
    """What SQLite keeps too (on Postgres the test above checks it with the primary and foreign keys)."""
    assert violations(_live_tables(), keys=False) == []


@postgres_only
def test_the_models_declare_the_primary_keys_of_the_database():
    """Alembic's drift check does not compare primary keys: this does, so the ORM identity matches the table."""
    tables = _live_tables()
    for table in Base.metadata.sorted_tables:
        assert tables[table.name].primary_key == tuple(c.name for c in table.primary_key.columns), table.name


@postgres_only
def test_the_checker_flags_tables_that_break_each_rule():
    """Read from a real schema (rolled back): a table per broken rule, next to tables that keep them all."""
    schema = f"shard_probe_{uuid.uuid4().hex[:8]}"
    ddl = [
        f"CREATE SCHEMA {schema}",
        f"SET LOCAL search_path TO {schema}",
        "CREATE TABLE organizations (id serial PRIMARY KEY, slug text UNIQUE)",
        "CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE)",
        "CREATE TABLE good (organization_id int REFERENCES organizations (id), id serial, name text, "
        "created_by int REFERENCES users (id), PRIMARY KEY (organization_id, id), UNIQUE (organization_id, name))",
        "CREATE TABLE good_child (organization_id int, id serial, good_id int, PRIMARY KEY (organization_id, id), "
        "FOREIGN KEY (organization_id, good_id) REFERENCES good (organization_id, id) ON DELETE SET NULL (good_id))",
        "CREATE UNIQUE INDEX good_child_lower ON good_child (organization_id, lower(good_id::text))",
        "CREATE TABLE bad_pk (organization_id int NOT NULL, id serial PRIMARY KEY)",
        "CREATE TABLE no_pk (organization_id int NOT NULL, id int)",
        "CREATE TABLE bad_unique (organization_id int, id int, code text, PRIMARY KEY (organization_id, id), "
        "CONSTRAINT bad_unique_code UNIQUE (code))",
        "CREATE UNIQUE INDEX bad_unique_include ON bad_unique (code) INCLUDE (organization_id)",
        "CREATE TABLE bad_fk (organization_id int, id int, good_id int, other_org int, "
        "PRIMARY KEY (organization_id, id), CONSTRAINT bad_fk_swapped FOREIGN KEY (other_org, organization_id) "
        "REFERENCES good (organization_id, id))",
        "CREATE TABLE plain (id serial PRIMARY KEY)",
        "CREATE TABLE to_plain (organization_id int, id int, plain_id int, PRIMARY KEY (organization_id, id), "
        "CONSTRAINT to_plain_fk FOREIGN KEY (plain_id) REFERENCES plain (id))",
        "CREATE TABLE from_reference (id serial PRIMARY KEY, org int, good_id int, "
        "CONSTRAINT from_reference_fk FOREIGN KEY (org, good_id) REFERENCES good (organization_id, id))",
        "ALTER TABLE users ADD COLUMN last_org int, ADD COLUMN last_good int, ADD CONSTRAINT users_last_good "
        "FOREIGN KEY (last_org, last_good) REFERENCES good (organization_id, id)",
    ]
    with get_engine().connect() as conn, conn.begin() as tx:
        for statement in ddl:
            conn.execute(text(statement))
        found = violations(read_postgres(conn, schema))
        tx.rollback()
    assert found == [
        "bad_fk: foreign key bad_fk_swapped ('other_org', 'organization_id') does not pair organization_id with "
        "organization_id",
        "bad_pk: primary key ('id',) lacks organization_id",
        "bad_unique: unique bad_unique_code ('code',) lacks organization_id",
        "bad_unique: unique bad_unique_include ('code',) lacks organization_id",
        "from_reference: foreign key from_reference_fk to good crosses tenancy",
        "no_pk: primary key () lacks organization_id",
        "to_plain: foreign key to_plain_fk to plain crosses tenancy",
        "users: foreign key users_last_good to good crosses tenancy",
    ]


def test_the_rules_on_keys_built_by_hand():
    """The checker alone, on both databases: each rule catches its own breach and accepts the composite forms."""
    org, users = TableKeys("organizations", {"id"}, ("id",)), TableKeys("users", {"id"}, ("id",))
    parent = TableKeys("parent", {ORG, "id"}, (ORG, "id"))
    child = TableKeys(
        "child",
        {ORG, "id", "parent_id"},
        (ORG, "id"),
        {"uq_child": (ORG, "parent_id")},
        [
            ForeignKey("fk_parent", (ORG, "parent_id"), "parent", (ORG, "id")),
            ForeignKey("fk_org", (ORG,), "organizations", ("id",)),
            ForeignKey("fk_user", ("parent_id",), "users", ("id",)),
        ],
    )
    tables = {t.name: t for t in (org, users, parent, child)}
    assert violations(tables) == []
    child.foreign_keys[0] = ForeignKey("fk_parent", ("parent_id",), "parent", ("id",))
    child.uniques["uq_name"] = ("parent_id",)
    parent.primary_key = ("id",)
    assert violations(tables) == [
        "child: unique uq_name ('parent_id',) lacks organization_id",
        "child: foreign key fk_parent ('parent_id',) does not pair organization_id with organization_id",
        "parent: primary key ('id',) lacks organization_id",
    ]
    assert violations(tables, keys=False) == ["child: unique uq_name ('parent_id',) lacks organization_id"]


def test_the_scaling_plan_distributes_every_tenant_table_and_references_the_rest():
    """docs/SCALING.md's statements cover the schema: a new tenant table must be added to the plan."""
    doc = SCALING_DOC.read_text(encoding="utf-8")
    distributed = re.findall(r"create_distributed_table\('(\w+)', 'organization_id'", doc)
    referenced = re.findall(r"create_reference_table\('(\w+)'\)", doc)
    assert sorted(distributed) == sorted(_model_tenant_tables())
    assert sorted(referenced) == sorted(REFERENCE_TABLES)
    # Parents before children: Citus needs the referred table distributed first.
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            referred = fk.referred_table.name
            if table.name in distributed and referred in distributed:
                assert distributed.index(referred) < distributed.index(table.name), (table.name, referred)
