"""SECRETS_KEYS: old secrets decrypt after a new first key is added, rotation re-encrypts them all (every org, in
batches, idempotently), the old key can then go, and a wrong key fails clearly. Also the CLI, as an operator runs it."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from app.core import security
from app.core.config import ConfigError, Settings, get_settings, validate_settings
from app.models import AuditEvent, DataSource, GoogleCredential
from app.services import datasources as datasource_service
from app.services.secret_rotation import rotate_secrets
from tests.conftest import all_orgs_session
from tests.routers.test_datasources import make_source
from tests.routers.test_sheets import authorized_user, put_creds

ROOT = Path(__file__).resolve().parents[1]
OLD_KEY = os.environ["SECRETS_KEY"]  # the suite's key: what every secret below is first encrypted with
NEW_KEY = Fernet.generate_key().decode()


def use_keys(monkeypatch, *keys: str) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "SECRETS_KEY", None)
    monkeypatch.setattr(settings, "SECRETS_KEYS", list(keys))


def stored() -> dict[tuple[str, int], str]:
    """(table, id) -> the stored ciphertext of every secret, across orgs."""
    with all_orgs_session() as s:
        sources = s.execute(
            select(DataSource.id, DataSource.secret_encrypted).where(DataSource.secret_encrypted.is_not(None))
        )
        creds = s.execute(select(GoogleCredential.id, GoogleCredential.secret_encrypted))
        return {("data_sources", i): c for i, c in sources} | {("google_credentials", i): c for i, c in creds}


def plaintexts() -> dict[tuple[str, int], str]:
    """What the application reads back: each source's full connection URL, each org's credential document."""
    with all_orgs_session() as s:
        urls = {("data_sources", x.id): datasource_service.connection_url(x) for x in s.scalars(select(DataSource))}
        creds = {
            ("google_credentials", x.id): security.decrypt_secret(x.secret_encrypted)
            for x in s.scalars(select(GoogleCredential))
        }
        return urls | creds


def decrypts_with(key: str, token: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except Exception:
        return False
    return True


@pytest.fixture
def secrets_of_two_orgs(client, org_a, org_b) -> dict[tuple[str, int], str]:
    """Three SQL sources with passwords and two Google credentials in two orgs, encrypted with OLD_KEY."""
    for org, names in ((org_a, ("erp", "crm")), (org_b, ("erp",))):
        for name in names:
            make_source(client, org, f"postgresql+psycopg2://reader:pw-{org.slug}-{name}@127.0.0.1:1/x", name=name)
        assert put_creds(client, org, authorized_user()).status_code == 200
    make_source(client, org_a, "postgresql+psycopg2://nopassword@127.0.0.1:1/x", name="open")  # nothing to rotate
    expected = plaintexts()
    assert "reader:pw-org-b-erp@" in "".join(expected.values())
    assert len(stored()) == 5 and all(decrypts_with(OLD_KEY, token) for token in stored().values())
    return expected


def test_old_secrets_decrypt_after_a_new_first_key_and_new_ones_use_it(client, org_a, secrets_of_two_orgs, monkeypatch):
    use_keys(monkeypatch, NEW_KEY, OLD_KEY)
    assert plaintexts() == secrets_of_two_orgs
    source = make_source(client, org_a, "postgresql+psycopg2://reader:brand-new@127.0.0.1:1/x", name="new")
    token = stored()[("data_sources", source["id"])]
    assert decrypts_with(NEW_KEY, token) and not decrypts_with(OLD_KEY, token)


def test_rotation_reencrypts_everything_then_the_old_key_can_go(secrets_of_two_orgs, monkeypatch):
    use_keys(monkeypatch, NEW_KEY, OLD_KEY)
    with all_orgs_session() as s:
        audit_before = s.scalar(select(func.count()).select_from(AuditEvent))
    dry = rotate_secrets(dry_run=True)
    assert [(c.column, c.rotated, c.current, c.failed) for c in dry.columns] == [
        ("data_sources.secret_encrypted", 3, 0, 0),
        ("google_credentials.secret_encrypted", 2, 0, 0),
    ]
    assert all(decrypts_with(OLD_KEY, token) for token in stored().values())  # a dry run writes nothing

    report = rotate_secrets(batch_size=2)  # several batches per table, across both orgs
    assert report.ok and [(c.rotated, c.current, c.failed) for c in report.columns] == [(3, 0, 0), (2, 0, 0)]
    assert all(decrypts_with(NEW_KEY, t) and not decrypts_with(OLD_KEY, t) for t in stored().values())
    again = rotate_secrets(batch_size=2)  # idempotent: nothing left to do
    assert [(c.rotated, c.current, c.failed) for c in again.columns] == [(0, 3, 0), (0, 2, 0)]

    use_keys(monkeypatch, NEW_KEY)  # the old key removed
    assert plaintexts() == secrets_of_two_orgs
    with all_orgs_session() as s:  # the secrets did not change: nothing to audit
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == audit_before


def test_a_wrong_key_fails_clearly_and_rotation_touches_nothing(secrets_of_two_orgs, monkeypatch):
    before = stored()
    use_keys(monkeypatch, NEW_KEY)  # the key the secrets were encrypted with is missing
    with pytest.raises(ValueError, match="cannot be decrypted with any of the configured SECRETS_KEYS"):
        plaintexts()
    report = rotate_secrets()
    assert not report.ok
    assert [(c.rotated, c.current, c.failed, len(c.failed_rows)) for c in report.columns] == [
        (0, 0, 3, 3),
        (0, 0, 2, 2),
    ]
    assert stored() == before


def _cli(*args: str, keys: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SECRETS_KEY"} | {"SECRETS_KEYS": keys}
    return subprocess.run(
        [sys.executable, "-m", "app.secrets", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_rotate_command_reports_counts_and_never_a_secret(secrets_of_two_orgs):
    wrong = _cli("rotate", keys=Fernet.generate_key().decode())
    assert wrong.returncode == 1
    assert (
        "data_sources.secret_encrypted: 0 re-encrypted, 0 already under the first key, 3 not decryptable"
        in wrong.stdout
    )
    assert "add the key they were encrypted with to SECRETS_KEYS" in wrong.stdout

    done = _cli("rotate", "--batch-size", "1", keys=f"{NEW_KEY},{OLD_KEY}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "data_sources.secret_encrypted: 3 re-encrypted, 0 already under the first key, 0 not decryptable with any key",
        "google_credentials.secret_encrypted: 2 re-encrypted, 0 already under the first key, "
        "0 not decryptable with any key",
    ]
    output = wrong.stdout + wrong.stderr + done.stdout + done.stderr
    tokens = list(stored().values())
    assert all(decrypts_with(NEW_KEY, token) for token in tokens)
    for secret in [*tokens, NEW_KEY, OLD_KEY, "pw-org-a-erp", "pw-org-a-crm", "pw-org-b-erp"]:
        assert secret not in output

    new_key = _cli("new-key", keys=NEW_KEY).stdout.strip()
    assert Fernet(new_key.encode()) and new_key not in (NEW_KEY, OLD_KEY)


def test_key_settings_one_key_a_list_and_production_checks_each():
    one = validate_settings(Settings(_env_file=None, SECRETS_KEY=OLD_KEY))
    assert one.secrets_keys == [OLD_KEY]
    listed = validate_settings(Settings(_env_file=None, SECRETS_KEYS=f" {NEW_KEY} , {OLD_KEY} "))
    assert listed.secrets_keys == [NEW_KEY, OLD_KEY]
    same = validate_settings(Settings(_env_file=None, SECRETS_KEY=OLD_KEY, SECRETS_KEYS=f"{NEW_KEY},{OLD_KEY}"))
    assert same.secrets_keys == [NEW_KEY, OLD_KEY]
    with pytest.raises(ConfigError, match="SECRETS_KEY is not one of SECRETS_KEYS"):
        validate_settings(Settings(_env_file=None, SECRETS_KEY=OLD_KEY, SECRETS_KEYS=NEW_KEY))
    production = {
        "_env_file": None,
        "APP_ENV": "production",
        "JWT_SECRET": "Jq8vX2kP9wL4nR7tY1bH6cJ5mZ3sD0fG-aT8uE",
        "DATABASE_URL": "postgresql+psycopg2://u@h/db",
        "SECRETS_KEY": None,  # the suite sets one in the environment
    }
    assert validate_settings(Settings(**production, SECRETS_KEYS=f"{NEW_KEY},{OLD_KEY}")).secrets_keys[0] == NEW_KEY
    weak = base64.urlsafe_b64encode(bytes(32)).decode()  # a valid Fernet key of 32 zero bytes
    with pytest.raises(ConfigError) as refused:
        validate_settings(Settings(**production, SECRETS_KEYS=f"{NEW_KEY},{weak},not-a-key,{NEW_KEY}"))
    message = str(refused.value)
    assert "SECRETS_KEYS key #2 is not random enough" in message
    assert "SECRETS_KEYS key #3 is not a valid Fernet key" in message
    assert "SECRETS_KEYS lists the same key twice" in message
    assert NEW_KEY not in message and weak not in message
