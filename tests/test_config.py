"""Production refuses unsafe settings; development keeps a generated secret across restarts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.core.config import EXAMPLE_JWT_SECRET, Settings, validate_settings

ROOT = Path(__file__).resolve().parents[1]


def _start_production(tmp_path, **env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in {"JWT_SECRET", "SECRETS_KEY", "DEV_LOGIN_ENABLED"}}
    full.update({"APP_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}, **env)
    return subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=tmp_path,
        env=full | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("secret", [None, "secret", "changeme", EXAMPLE_JWT_SECRET, "short-but-random-31-bytes-long!"])
def test_production_refuses_weak_jwt_secret(tmp_path, secret):
    env = {"SECRETS_KEY": Fernet.generate_key().decode()}
    if secret is not None:
        env["JWT_SECRET"] = secret
    proc = _start_production(tmp_path, **env)
    assert proc.returncode != 0
    assert "Refusing to start in production" in proc.stderr and "JWT_SECRET" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_production_refuses_missing_secrets_key(tmp_path):
    proc = _start_production(tmp_path, JWT_SECRET="k" * 48)
    assert proc.returncode != 0 and "SECRETS_KEY" in proc.stderr


def test_production_starts_with_strong_settings_and_dev_login_off(tmp_path):
    settings = validate_settings(
        Settings(
            _env_file=None,
            APP_ENV="production",
            JWT_SECRET="k" * 48,
            SECRETS_KEY=Fernet.generate_key().decode(),
            DEV_LOGIN_ENABLED=None,
            ALLOW_PRIVATE_DATASOURCE_HOSTS=None,
        )
    )
    assert settings.dev_login_enabled is False
    assert settings.allow_private_datasource_hosts is False
    proc = _start_production(tmp_path, JWT_SECRET="k" * 48, SECRETS_KEY=Fernet.generate_key().decode())
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
