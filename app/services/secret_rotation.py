"""Secrets rotation: re-encrypt every stored secret with the first of SECRETS_KEYS, across all organizations, in
batches (one transaction each). Idempotent: a secret the first key already decrypts is left as it is, so a run
can be repeated or resumed; a secret no configured key decrypts is counted and left untouched, never printed."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, or_

from app.core.db import session_scope
from app.core.security import SecretKeyMismatch, reencrypt_secret
from app.models import DataSource, GoogleCredential
from app.services import audit
from app.services.tenancy import across_orgs, unscoped_select_across_orgs

EncryptedModel = type[DataSource] | type[GoogleCredential]
# Every column that holds a Fernet token (a new encrypted column is added here): (model, attribute).
ENCRYPTED_COLUMNS: tuple[tuple[EncryptedModel, str], ...] = (
    (DataSource, "secret_encrypted"),
    (GoogleCredential, "secret_encrypted"),
)
DEFAULT_BATCH_SIZE = 500
MAX_LISTED_FAILURES = 20


@dataclass
class ColumnRotation:
    """What happened to one encrypted column's values."""

    column: str  # table.column
    rotated: int = 0  # re-encrypted with the first key (or would be, on a dry run)
    current: int = 0  # already encrypted with the first key
    failed: int = 0  # no configured key decrypts them
    failed_rows: list[tuple[int, int]] = field(default_factory=list)  # (organization_id, id), the first few


@dataclass
class RotationReport:
    columns: list[ColumnRotation]
    dry_run: bool

    @property
    def ok(self) -> bool:
        return all(column.failed == 0 for column in self.columns)


def rotate_secrets(*, batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False) -> RotationReport:
    """Re-encrypt every stored secret with the first key; dry_run counts without writing."""
    return RotationReport(
        [_rotate_column(model, attribute, batch_size, dry_run) for model, attribute in ENCRYPTED_COLUMNS], dry_run
    )


def _rotate_column(model: EncryptedModel, attribute: str, batch_size: int, dry_run: bool) -> ColumnRotation:
    column = getattr(model, attribute)
    report = ColumnRotation(f"{model.__tablename__}.{attribute}")
    after: tuple[int, int] | None = None  # keyset (organization_id, id): stable whatever the primary key becomes
    while True:
        with session_scope() as session, across_orgs(session):
            audit.set_actor(session, audit.ActorType.SYSTEM)
            stmt = unscoped_select_across_orgs(model).where(column.is_not(None), column != "")
            if after is not None:
                org_id, row_id = after
                stmt = stmt.where(
                    or_(model.organization_id > org_id, and_(model.organization_id == org_id, model.id > row_id))
                )
            # Locked for the batch: a secret changed meanwhile through the API is not overwritten with the old one.
            rows = session.scalars(
                stmt.order_by(model.organization_id, model.id).limit(batch_size).with_for_update()
            ).all()
            for row in rows:
                _rotate_row(row, attribute, report, dry_run)
            session.commit()  # inside across_orgs: the audit trail is written under the same exception
        if len(rows) < batch_size:
            return report
        after = (rows[-1].organization_id, rows[-1].id)


def _rotate_row(row: DataSource | GoogleCredential, attribute: str, report: ColumnRotation, dry_run: bool) -> None:
    try:
        token = reencrypt_secret(getattr(row, attribute))
    except SecretKeyMismatch:
        report.failed += 1
        if len(report.failed_rows) < MAX_LISTED_FAILURES:
            report.failed_rows.append((row.organization_id, row.id))
        return
    if token is None:
        report.current += 1
        return
    report.rotated += 1
    if not dry_run:
        setattr(row, attribute, token)
