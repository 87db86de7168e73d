"""Production refuses unsafe settings; development keeps a generated secret across restarts."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.core.config import EXAMPLE_JWT_SECRET, ConfigError, Settings, validate_settings

ROOT = Path(__file__).resolve().parents[1]
STRONG_SECRET = secrets.token_urlsafe(48)


def _start_production(tmp_path, **env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in {"JWT_SECRET", "SECRETS_KEY", "DEV_LOGIN_ENABLED"}}
    full.update(
        {"APP_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "ALLOW_SQLITE_IN_PRODUCTION": "true"},
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=tmp_path,
        env=full | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "secret",
        "changeme",
        EXAMPLE_JWT_SECRET,
        "short-but-random-31-bytes-long!",
        "a" * 32,
        "a" * 64,
        "ab" * 24,
        "passwordpasswordpasswordpassword",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "0123456789" * 4,
        "a" * 40 + "b",
        "secretsecretsecretsecretsecret12",
    ],
)
def test_production_refuses_weak_jwt_secret(secret):
    settings = Settings(
        _env_file=None,
        APP_ENV="production",
        JWT_SECRET=secret,
        SECRETS_KEY=Fernet.generate_key().decode(),
        DATABASE_URL="postgresql+psycopg2://app@db/painel",
    )
    with pytest.raises(ConfigError, match="Refusing to start in production: JWT_SECRET"):
        validate_settings(settings)


def test_production_exits_with_a_message_not_a_traceback(tmp_path):
    proc = _start_production(tmp_path, JWT_SECRET="a" * 32, SECRETS_KEY=Fernet.generate_key().decode())
    assert proc.returncode != 0
    assert "Refusing to start in production" in proc.stderr and "JWT_SECRET is not random enough" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_production_refuses_missing_secrets_key(tmp_path):
    proc = _start_production(tmp_path, JWT_SECRET=STRONG_SECRET)
    assert proc.returncode != 0 and "SECRETS_KEY" in proc.stderr


def test_production_starts_with_strong_settings_and_dev_login_off(tmp_path):
    settings = validate_settings(
        Settings(
            _env_file=None,
            APP_ENV="production",
            JWT_SECRET=STRONG_SECRET,
            SECRETS_KEY=Fernet.generate_key().decode(),
            DATABASE_URL="postgresql+psycopg2://app@db/painel",
            DEV_LOGIN_ENABLED=None,
            ALLOW_PRIVATE_DATASOURCE_HOSTS=None,
        )
    )
    assert settings.dev_login_enabled is False
    assert settings.allow_private_datasource_hosts is False
    proc = _start_production(tmp_path, JWT_SECRET=STRONG_SECRET, SECRETS_KEY=Fernet.generate_key().decode())
    assert proc.returncode == 0, proc.stderr


def test_development_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    from app.core import config

    monkeypatch.setattr(config, "VAR_DIR", tmp_path)
    monkeypatch.setattr(config, "DEV_SECRETS_FILE", tmp_path / "dev-secrets.json")
    first = validate_settings(Settings(_env_file=None, APP_ENV="development", JWT_SECRET=None, SECRETS_KEY=None))
    second = validate_settings(Settings(_env_file=None, APP_ENV="development", JWT_SECRET=None, SECRETS_KEY=None))
    assert first.JWT_SECRET == second.JWT_SECRET and len(first.JWT_SECRET) >= 32
    assert first.SECRETS_KEY == second.SECRETS_KEY
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_cors_origins_accepts_comma_list():
    assert Settings(_env_file=None, CORS_ORIGINS="https://a.example, https://b.example").CORS_ORIGINS == [
        "https://a.example",
        "https://b.example",
    ]


@pytest.mark.parametrize("secret", [secrets.token_urlsafe(32), secrets.token_hex(16), secrets.token_hex(32)])
def test_production_accepts_random_jwt_secrets(secret):
    settings = Settings(
        _env_file=None,
        APP_ENV="production",
        JWT_SECRET=secret,
        SECRETS_KEY=Fernet.generate_key().decode(),
        DATABASE_URL="postgresql+psycopg2://app@db/painel",
    )
    assert secret == validate_settings(settings).JWT_SECRET


def test_production_refuses_a_low_entropy_secrets_key(tmp_path):
    zeros = base64.urlsafe_b64encode(bytes(32)).decode()
    proc = _start_production(tmp_path, JWT_SECRET=STRONG_SECRET, SECRETS_KEY=zeros)
    assert proc.returncode != 0 and "SECRETS_KEY is not random enough" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_production_refuses_sqlite_unless_explicitly_allowed(tmp_path):
    key = Fernet.generate_key().decode()
    proc = _start_production(tmp_path, JWT_SECRET=STRONG_SECRET, SECRETS_KEY=key, ALLOW_SQLITE_IN_PRODUCTION="false")
    assert proc.returncode != 0
    assert "DATABASE_URL is SQLite" in proc.stderr and "ALLOW_SQLITE_IN_PRODUCTION" in proc.stderr
    assert "Traceback" not in proc.stderr
    allowed = _start_production(tmp_path, JWT_SECRET=STRONG_SECRET, SECRETS_KEY=key)
    assert allowed.returncode == 0, allowed.stderr


def test_env_example_documents_every_setting():
    text = (ROOT / ".env.example").read_text()
    missing = [name for name in Settings.model_fields if not re.search(rf"^#?\s*{name}=", text, re.MULTILINE)]
    assert missing == []
