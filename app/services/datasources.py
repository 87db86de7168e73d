"""Data sources of an organization: typed config, secrets encrypted at rest and never returned."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.core.db import insert_or_ignore
from app.core.errors import Conflict, Unprocessable
from app.core.security import decrypt_secret, encrypt_secret
from app.models import DataSource, Fact, IngestionBatch, RejectedRow, SourceType, StagingRow
from app.schemas.common import Page, PageParams
from app.schemas.datasources import DataSourceCreate, DataSourceRead, DataSourceUpdate, SheetsConfig, SqlConfig
from app.services import connections, freshness, rollups
from app.services.pagination import fetch_page
from app.services.sql_guard import validate_select
from app.services.tenancy import Tenant, get_scoped_or_404, scoped_delete, scoped_select

# SQLAlchemy dialect family -> sqlglot dialect, for validating a source's query in its own SQL dialect.
SQLGLOT_DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "tsql",
    "oracle": "oracle",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
}
MASK = "***"


def get_source(session: Session, tenant: Tenant, source_id: int, *, lock: bool = False) -> DataSource:
    """The caller's source, or 404; with lock, concurrent loads of the same source wait for each other."""
    return get_scoped_or_404(session, tenant, DataSource, source_id, "Data source", lock=lock)


def find_by_name(
    session: Session, tenant: Tenant, source_type: SourceType, name: str, *, lock: bool = False
) -> DataSource | None:
    """The caller's source of this type and name, if any (lock: FOR UPDATE, for loading into it)."""
    stmt = scoped_select(tenant, DataSource).where(DataSource.type == source_type, DataSource.name == name)
    return session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()


def get_or_create_source(
    session: Session, tenant: Tenant, source_type: SourceType, name: str, config: dict[str, Any] | None = None
) -> DataSource:
    """The caller's source of this type and name, created when missing, locked for loading into it.

    Concurrent first uploads of the same file name all end up with the one source the unique index allows."""
    insert_or_ignore(
        session,
        DataSource,
        {
            "organization_id": tenant.org_id,
            "name": name,
            "type": source_type,
            "config_json": config or {},
            "is_recurring": False,
            "created_by": tenant.user_id,
        },
        ["organization_id", "type", "name"],
    )
    source = find_by_name(session, tenant, source_type, name, lock=True)
    if source is None:  # pragma: no cover - the row was just inserted or found
        raise RuntimeError(f"data source {name!r} vanished while being created")
    return source


def _require_free_name(session: Session, tenant: Tenant, source_type: SourceType, name: str) -> None:
    if find_by_name(session, tenant, source_type, name) is not None:
        raise Conflict(f"A {source_type.value} data source named '{name}' already exists", code="duplicate_name")


def add_source(
    session: Session,
    tenant: Tenant,
    source_type: SourceType,
    name: str,
    config: dict | None = None,
    *,
    secret: str | None = None,
    is_recurring: bool = False,
    interval_minutes: int | None = None,
) -> DataSource:
    """A new source owned by the caller's organization."""
    source = DataSource(
        organization_id=tenant.org_id,
        name=name,
        type=source_type,
        config_json=config or {},
        secret_encrypted=encrypt_secret(secret) if secret else None,
        is_recurring=is_recurring,
        interval_minutes=interval_minutes,
        created_by=tenant.user_id,
    )
    session.add(source)
    session.flush()
    return source


def check_sql_config(config: SqlConfig) -> str:
    """Apply the connection rules and the SELECT-only rules; returns the query in canonical form."""
    checked = connections.check_url(config.sqlalchemy_url)
    dialect = SQLGLOT_DIALECTS.get(checked.dialect, "postgres")
    return validate_select(config.query, dialect=dialect).sql


def _store_config(
    source_type: SourceType, config: dict[str, Any], old: DataSource | None
) -> tuple[dict[str, Any], str | None]:
    """(config_json, secret) to store: the SQL URL's password travels separately, encrypted."""
    if source_type is SourceType.SQL:
        sql = SqlConfig.model_validate({**config, "type": "sql"})
        url_without_password, password = connections.split_secret(sql.sqlalchemy_url)
        if password == MASK and old is not None:
            # The stored password only ever goes to the server it was given for.
            if not connections.same_destination(old.config_json.get("sqlalchemy_url", ""), url_without_password):
                raise Unprocessable(
                    "The connection URL points somewhere else than the saved one (dialect, host, port, database, "
                    "user name or parameters changed): give its password instead of ***; the saved password is "
                    "only sent to the server it was saved for.",
                    code="password_required",
                )
            password = decrypt_secret(old.secret_encrypted) if old.secret_encrypted else None
            sql = sql.model_copy(update={"sqlalchemy_url": connections.join_secret(url_without_password, password)})
        check_sql_config(sql)
        stored = {
            "sqlalchemy_url": url_without_password,
            "query": sql.query,
            "incremental_column": sql.incremental_column,
            "mapping": sql.mapping,
        }
        return stored, password
    if source_type is SourceType.GOOGLE_SHEETS:
        return SheetsConfig.model_validate({**config, "type": "google_sheets"}).model_dump(exclude={"type"}), None
    if config:
        raise Unprocessable(
            f"{source_type.value} sources take no config; files come through /ingest", code="invalid_config"
        )
    return {}, None


def create_source(session: Session, tenant: Tenant, body: DataSourceCreate) -> DataSourceRead:
    """Validate the config for its type and save the source (a SQL URL's password encrypted apart)."""
    source_type = SourceType(body.type)
    _require_free_name(session, tenant, source_type, body.name)
    config, secret = _store_config(source_type, body.config, None)
    source = add_source(
        session,
        tenant,
        source_type,
        body.name,
        config,
        secret=secret,
        is_recurring=body.is_recurring,
        interval_minutes=body.interval_minutes,
    )
    return as_read(source)


def update_source(session: Session, tenant: Tenant, source_id: int, changes: DataSourceUpdate) -> DataSourceRead:
    """Apply the fields sent; a new config is validated like a new source's."""
    source = get_source(session, tenant, source_id)
    sent = changes.model_fields_set
    if "name" in sent and changes.name != source.name:
        _require_free_name(session, tenant, source.type, changes.name)
        source.name = changes.name
    if changes.config is not None:
        merged = {**public_config(source), **changes.config}
        config, secret = _store_config(source.type, merged, source)
        source.config_json = config
        source.secret_encrypted = encrypt_secret(secret) if secret else None
    if "is_recurring" in sent:
        source.is_recurring = changes.is_recurring
    if "interval_minutes" in sent:
        source.interval_minutes = changes.interval_minutes
    if source.is_recurring and source.type.is_file:
        raise Unprocessable("file upload sources cannot be recurring", code="invalid_config")
    session.flush()
    return as_read(source)


def delete_source(session: Session, tenant: Tenant, source_id: int) -> None:
    """Delete a source and, with it, its batches and curated rows."""
    source = get_source(session, tenant, source_id, lock=True)
    # The bulk tables carry no cascading foreign keys (see BulkOrgScoped): delete their rows first.
    batch_ids = scoped_select(tenant, IngestionBatch, IngestionBatch.id).where(
        IngestionBatch.data_source_id == source.id
    )
    session.execute(scoped_delete(tenant, StagingRow).where(StagingRow.batch_id.in_(batch_ids)))
    session.execute(scoped_delete(tenant, RejectedRow).where(RejectedRow.batch_id.in_(batch_ids)))
    session.execute(scoped_delete(tenant, Fact).where(Fact.data_source_id == source.id))
    rollups.remove_source(session, tenant, source.id)
    session.delete(source)
    freshness.bump(session, tenant)
    session.flush()


def list_sources(session: Session, tenant: Tenant, page: PageParams) -> Page[DataSourceRead]:
    """The org's data sources, by name (secrets masked)."""
    stmt = scoped_select(tenant, DataSource).order_by(DataSource.name, DataSource.id)
    return fetch_page(session, stmt, page, DataSourceRead, lambda row: as_read(row[0]))


def read_source(session: Session, tenant: Tenant, source_id: int) -> DataSourceRead:
    """One data source as clients see it (secrets masked)."""
    return as_read(get_source(session, tenant, source_id))


def connection_url(source: DataSource) -> str:
    """The full URL (password decrypted) to connect with; never returned to a client."""
    password = decrypt_secret(source.secret_encrypted) if source.secret_encrypted else None
    return connections.join_secret(source.config_json["sqlalchemy_url"], password)


def public_config(source: DataSource) -> dict[str, Any]:
    """The config as clients see it: a SQL URL's password is shown as ***."""
    config = dict(source.config_json or {})
    if source.type is SourceType.SQL and source.secret_encrypted and "sqlalchemy_url" in config:
        config["sqlalchemy_url"] = connections.mask_url(connections.join_secret(config["sqlalchemy_url"], MASK))
    return config


def as_read(source: DataSource) -> DataSourceRead:
    """The source as clients see it: its config with any secret masked."""
    return DataSourceRead(
        id=source.id,
        name=source.name,
        type=source.type.value,
        config=public_config(source),
        is_recurring=source.is_recurring,
        interval_minutes=source.interval_minutes,
        created_by=source.created_by,
        created_at=source.created_at,
        updated_at=source.updated_at,
    )
