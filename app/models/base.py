"""Declarative base with naming conventions, shared column types and the OrgScoped mixin."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Numeric,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on real databases; INTEGER on SQLite so the key is its autoincrementing rowid.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def str_enum(cls: type[enum.Enum], name: str, length: int = 32) -> Enum:
    """A str-valued enum stored as VARCHAR with a CHECK constraint (portable, easy to extend in a migration)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=length,
        create_constraint=True,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


class TenantTable:
    """What every tenant table has: an id and the organization its row belongs to (for typing the tenancy helpers;
    the columns themselves come from OrgScoped or BulkOrgScoped).

    The primary key is (organization_id, id), and foreign keys between tenant tables are composite
    (organization_id, x_id) -> (organization_id, id): what Citus needs to keep an org's rows on one node
    (docs/SCALING.md). Each model declares `id` with primary_key=True, autoincrement=True: Postgres fills it from
    the column's sequence; on SQLite the migrations keep `id INTEGER PRIMARY KEY` (the rowid: SQLite cannot
    autoincrement a composite key), which the ORM reads back the same way."""

    if TYPE_CHECKING:
        id: Mapped[int]
        organization_id: Mapped[int]


def org_foreign_key(table: str, column: str, referred: str, *, ondelete: str) -> ForeignKeyConstraint:
    """A reference between tenant tables: (organization_id, column) -> referred (organization_id, id), so a row can
    only point at its own org's rows and Citus can check it on one shard. Named like the single-column key it
    replaced (migration 0018)."""
    return ForeignKeyConstraint(
        ["organization_id", column],
        [f"{referred}.organization_id", f"{referred}.id"],
        name=f"fk_{table}_{column}_{referred}",
        ondelete=ondelete,
    )


class OrgScoped(TenantTable):
    """A tenant table: every row belongs to one organization (indexes lead with organization_id)."""

    @declared_attr
    def organization_id(cls) -> Mapped[int]:  # noqa: N805 declared_attr runs on the class
        return mapped_column(
            ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, nullable=False, sort_order=-1
        )


class BulkOrgScoped(TenantTable):
    """A tenant table written in bulk (staging, rejected rows, facts): no foreign keys, because per-row
    constraint triggers would cost more than the COPY itself; the pipeline keeps the references whole and
    deleting a source deletes its rows explicitly."""

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True, nullable=False, sort_order=-1)


class ExactDecimal(TypeDecorator):
    """Exact decimal values: NUMERIC on real databases; on SQLite (no decimal type) a scaled BIGINT,

    so sums stay exact there too. SUM()/AVG() over the column keep this type, so results come back as Decimal.
    """

    impl = Numeric(24, 6)
    cache_ok = True
    SCALE = 6
    _FACTOR = Decimal(10) ** SCALE

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(24, self.SCALE))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value) if not isinstance(value, Decimal) else value
        if dialect.name == "sqlite":
            return int((value * self._FACTOR).to_integral_value(rounding=ROUND_HALF_EVEN))
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            return exact / self._FACTOR
        return Decimal(value)


# JSON documents: JSONB on Postgres (indexable, compact), JSON elsewhere.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")
