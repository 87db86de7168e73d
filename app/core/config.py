"""Settings from the environment and `.env`; refuses unsafe production settings."""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import secrets
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = PROJECT_ROOT / "var"
DEV_SECRETS_FILE = VAR_DIR / "dev-secrets.json"

# Secrets that must never protect a production deployment.
EXAMPLE_JWT_SECRET = "change-me-to-a-random-string-of-at-least-32-bytes"  # noqa: S105 refused, not used
KNOWN_WEAK_SECRETS = {EXAMPLE_JWT_SECRET, "secret", "changeme", "change-me", "password", ""}
MIN_SECRET_BYTES = 32
MIN_SECRET_ENTROPY_BITS = 100  # estimated: 32 random hex characters score ~120, 32 times "a" scores 0
# A browser's Origin: scheme, host and optional port, nothing else (a path or trailing slash never matches).
CORS_ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$")


class ConfigError(RuntimeError):
    """The settings are unsafe or inconsistent; the app must not start."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    APP_ENV: Literal["development", "test", "production"] = "development"
    DATABASE_URL: str = f"sqlite:///{(VAR_DIR / 'painel.db').as_posix()}"
    JWT_SECRET: str | None = None
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=60, gt=0)
    DEV_LOGIN_ENABLED: bool | None = None
    CRON_DEFAULT_MINUTES: int = Field(default=60, gt=0)
    SCHEDULER_ENABLED: bool = True
    # Freeze the objects alive at startup out of the garbage collector's full passes (app/core/heap.py): they were
    # the p99 under load. Off in the test suite, whose one process starts the app many times.
    GC_SETTLE: bool = True
    # Worker threads per process resolving requests' credentials at once (their one statement blocks): fewer
    # threads contending for the GIL gave a shorter tail (p99 73-93 -> 56-63 ms at 8, one worker, 16 connections).
    CALLER_THREADS: int = Field(default=8, ge=1, le=1000)
    # On Postgres, a read-only request's user-token statement runs on the event loop through an asyncio pool of
    # CALLER_THREADS connections per process instead (app/core/async_db.py): no worker thread on a cache hit.
    ASYNC_CALLER: bool = True
    MAX_UPLOAD_MB: int = Field(default=50, gt=0)
    MAX_UPLOAD_ROWS: int = Field(default=2_000_000, gt=0)
    # Uploads larger than this (MB) answer 202 at once and load in the background (0: only on Prefer: respond-async).
    ASYNC_UPLOAD_MB: float = Field(default=10, ge=0)
    ASYNC_UPLOAD_WORKERS: int = Field(default=2, ge=1, le=16)
    # Staging and rejected rows of batches that are no longer current are removed this many days after they
    # finished (they can then no longer be restored); 0 keeps them forever.
    RETENTION_DAYS: int = Field(default=30, ge=0)
    # CSV loads on Postgres: parse and validate in SQL after one COPY (app/services/ingest/copy_path); false keeps
    # the Python parser (the kill switch; SQLite, XLSX and dry runs always take the Python path).
    INGEST_COPY_PATH: bool = True
    # Postgres work_mem for the rest of a COPY-path load's transaction (SET LOCAL): the daily rollups' GROUP BY over
    # a million fresh rows then hashes in memory instead of sorting on disk (0.4 s less per 1M rows, measured).
    INGEST_WORK_MEM_MB: int = Field(default=64, ge=4, le=2048)
    MAX_RANGE_DAYS: int = Field(default=3660, gt=0)
    CORS_ORIGINS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    SECRETS_KEY: str | None = None
    # Ordered Fernet keys (comma-separated): the first encrypts, every one decrypts (rotation: new,old).
    SECRETS_KEYS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Production needs a server database (scheduler locks, several workers); SQLite only when explicitly allowed.
    ALLOW_SQLITE_IN_PRODUCTION: bool = False
    ALLOW_PRIVATE_DATASOURCE_HOSTS: bool | None = None
    SEED_DEMO: bool = True
    SHEETS_API_BASE_URL: str = "https://sheets.googleapis.com/v4/spreadsheets"
    GOOGLE_TOKEN_URI: str = "https://oauth2.googleapis.com/token"  # noqa: S105 a URL, not a secret
    GOOGLE_DEV_CREDENTIALS_DIR: str = "."
    SHEETS_MAX_RETRIES: int = Field(default=4, ge=0, le=10)
    SHEETS_RETRY_BASE_SECONDS: float = Field(default=1.0, ge=0)
    SCHEDULER_TICK_SECONDS: int = Field(default=60, gt=0)
    SCHEDULER_MAX_PARALLEL: int = Field(default=4, ge=1, le=32)
    JOB_TIMEOUT_SECONDS: int = Field(default=1800, gt=0)
    JOB_MAX_ATTEMPTS: int = Field(default=3, ge=1)
    JOB_RETRY_BASE_SECONDS: int = Field(default=60, ge=0)
    JOB_STALE_AFTER_SECONDS: int = Field(default=3600, gt=0)
    CUSTOM_RESULT_MAX_BYTES: int = Field(default=5 * 1024 * 1024, ge=1024)
    DASHBOARD_DATA_DEADLINE_SECONDS: float = Field(default=15, gt=0)
    # Operations: logs, metrics and the shared store of rate limits.
    LOG_FORMAT: Literal["json", "text"] | None = None  # default: text in development/test, json in production
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    METRICS_TOKEN: str | None = None
    REDIS_URL: str | None = None
    REDIS_KEY_PREFIX: str = "painel:"
    # Result cache of indicator and dashboard-data answers: in process (LRU per worker, this many MB; 0 turns it
    # off), or in Redis when REDIS_URL is set (shared by the workers; entries expire after the TTL).
    RESULT_CACHE_MAX_MB: int = Field(default=64, ge=0, le=65536)
    RESULT_CACHE_TTL_SECONDS: int = Field(default=86400, gt=0)
    RESULT_CACHE_PREFIX: str = "painel:result:"

    @field_validator("CORS_ORIGINS", "SECRETS_KEYS", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("CORS_ORIGINS", mode="after")
    @classmethod
    def _bare_origins(cls, value: list[str]) -> list[str]:
        # "http://localhost:5173/" as copied from an address bar means the origin http://localhost:5173.
        return [origin.strip().rstrip("/") for origin in value]

    @field_validator("LOG_FORMAT", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return (value.strip().lower() or None) if isinstance(value, str) else value

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("METRICS_TOKEN", "REDIS_URL", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def is_production(self) -> bool:
        return self.APP_ENV == "production"

    @property
    def dev_login_enabled(self) -> bool:
        if self.DEV_LOGIN_ENABLED is None:
            return not self.is_production
        return self.DEV_LOGIN_ENABLED

    @property
    def allow_private_datasource_hosts(self) -> bool:
        if self.ALLOW_PRIVATE_DATASOURCE_HOSTS is None:
            return not self.is_production
        return self.ALLOW_PRIVATE_DATASOURCE_HOSTS

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")

    @property
    def jwt_key(self) -> str:
        """JWT_SECRET once validate_settings has checked or generated it."""
        if not self.JWT_SECRET:
            raise ConfigError("JWT_SECRET is not set")
        return self.JWT_SECRET

    @property
    def secrets_keys(self) -> list[str]:
        """The Fernet keys, first one encrypting (SECRETS_KEYS, else SECRETS_KEY as a one-key list) once
        validate_settings has checked or generated them."""
        keys = self.SECRETS_KEYS or ([self.SECRETS_KEY] if self.SECRETS_KEY else [])
        if not keys:
            raise ConfigError("SECRETS_KEYS (or SECRETS_KEY) is not set")
        return keys

    @property
    def log_format(self) -> Literal["json", "text"]:
        if self.LOG_FORMAT is None:
            return "json" if self.is_production else "text"
        return self.LOG_FORMAT

    @property
    def max_upload_bytes(self) -> int:
        return self.MAX_UPLOAD_MB * 1024 * 1024

    @property
    def async_upload_bytes(self) -> int | None:
        """Uploads above this size load in the background; None: only when the client asks for it."""
        return int(self.ASYNC_UPLOAD_MB * 1024 * 1024) if self.ASYNC_UPLOAD_MB > 0 else None


def _dev_secret(name: str, factory) -> str:
    """A development secret kept in an ignored local file, so tokens survive a restart."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    stored: dict[str, str] = {}
    if DEV_SECRETS_FILE.exists():
        stored = json.loads(DEV_SECRETS_FILE.read_text() or "{}")
    if name not in stored:
        stored[name] = factory()
        DEV_SECRETS_FILE.write_text(json.dumps(stored, indent=2))
        DEV_SECRETS_FILE.chmod(0o600)
    return stored[name]


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def estimated_entropy_bits(secret: str) -> float:
    """A generous upper bound of a secret's entropy: its length times the Shannon entropy of its characters,
    zero for a string that is one unit repeated or a run of consecutive characters ("abcd...", "1234...")."""
    if not secret:
        return 0.0
    n = len(secret)
    for period in range(1, n // 2 + 1):
        if n % period == 0 and secret[:period] * (n // period) == secret:
            return 0.0
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(secret)]
    if steps and sum(abs(step) == 1 for step in steps) > len(steps) / 2:
        return 0.0
    per_char = -sum(c / n * math.log2(c / n) for c in Counter(secret).values())
    return per_char * n


def _jwt_secret_problem(secret: str) -> str | None:
    if secret.strip().lower() in KNOWN_WEAK_SECRETS:
        return "JWT_SECRET is missing or a well-known value"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes"
    if estimated_entropy_bits(secret) < MIN_SECRET_ENTROPY_BITS:
        return (
            "JWT_SECRET is not random enough (repeated or predictable characters); generate one with "
            '`python -c "import secrets; print(secrets.token_urlsafe(48))"`'
        )
    return None


def _secrets_key_problem(key: str | None, name: str = "SECRETS_KEY") -> str | None:
    if not key:
        return f"{name} (a Fernet key for data source secrets) is missing"
    try:
        from cryptography.fernet import Fernet

        Fernet(key.encode())
        raw = base64.urlsafe_b64decode(key.encode())
    except Exception:
        return f"{name} is not a valid Fernet key"
    if len(set(raw)) < 16:  # 32 random bytes have ~31 distinct values
        return f"{name} is not random enough; generate one with Fernet.generate_key()"
    return None


def _secrets_keys_problems(settings: Settings) -> list[str]:
    """Each key of the list is checked like a single key, named by its position (never by its value)."""
    if not settings.SECRETS_KEYS:
        problem = _secrets_key_problem(settings.SECRETS_KEY)
        return [problem] if problem else []
    problems = [
        problem
        for position, key in enumerate(settings.SECRETS_KEYS, start=1)
        if (problem := _secrets_key_problem(key, f"SECRETS_KEYS key #{position}"))
    ]
    if len(set(settings.SECRETS_KEYS)) != len(settings.SECRETS_KEYS):
        problems.append("SECRETS_KEYS lists the same key twice")
    return problems


def _metrics_token_problem(token: str | None) -> str | None:
    if token is None:
        return None  # /metrics is then disabled in production
    if token.strip().lower() in KNOWN_WEAK_SECRETS or len(token.encode()) < MIN_SECRET_BYTES:
        return f"METRICS_TOKEN is a well-known value or shorter than {MIN_SECRET_BYTES} bytes"
    if estimated_entropy_bits(token) < MIN_SECRET_ENTROPY_BITS:
        return "METRICS_TOKEN is not random enough (repeated or predictable characters)"
    return None


def _key_sources_problem(settings: Settings) -> str | None:
    if settings.SECRETS_KEY and settings.SECRETS_KEYS and settings.SECRETS_KEY not in settings.SECRETS_KEYS:
        return (
            "SECRETS_KEY and SECRETS_KEYS are both set and SECRETS_KEY is not one of SECRETS_KEYS; "
            "set SECRETS_KEYS alone (new key first, then the old ones)"
        )
    return None


def _cors_problem(origins: list[str]) -> str | None:
    bad = [origin for origin in origins if origin != "*" and not CORS_ORIGIN_RE.match(origin)]
    if bad:
        return (
            f"CORS_ORIGINS has entries that are not origins ({', '.join(map(repr, bad))}): "
            "write scheme://host[:port], e.g. http://localhost:5173, comma-separated"
        )
    return None


def validate_settings(settings: Settings) -> Settings:
    """Fill development defaults and refuse unsafe production settings."""
    if problem := _cors_problem(settings.CORS_ORIGINS):
        raise ConfigError(problem)
    if (problem := _key_sources_problem(settings)) is not None:
        raise ConfigError(f"Refusing to start: {problem}.")
    if settings.is_production:
        problems = [
            problem
            for problem in (
                _jwt_secret_problem(settings.JWT_SECRET or ""),
                *_secrets_keys_problems(settings),
                _metrics_token_problem(settings.METRICS_TOKEN),
            )
            if problem
        ]
        if settings.is_sqlite and not settings.ALLOW_SQLITE_IN_PRODUCTION:
            problems.append(
                "DATABASE_URL is SQLite, which cannot serve several workers (scheduler locks, shared limits); "
                "use PostgreSQL, or set ALLOW_SQLITE_IN_PRODUCTION=true for a single-process deployment"
            )
        if problems:
            raise ConfigError("Refusing to start in production: " + "; ".join(problems) + ".")
        return settings
    if not settings.JWT_SECRET:
        settings.JWT_SECRET = _dev_secret("JWT_SECRET", lambda: secrets.token_urlsafe(48))
    if not settings.SECRETS_KEY and not settings.SECRETS_KEYS:
        settings.SECRETS_KEY = _dev_secret("SECRETS_KEY", _new_fernet_key)
    if settings.is_sqlite:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    return settings


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, validated once."""
    return validate_settings(Settings())
