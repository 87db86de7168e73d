"""Log lines: JSON (LOG_FORMAT=json, the production default) or plain text (development), one handler on the root
logger that uvicorn's loggers share, each line with the request context (request id, org, user) and every secret
redacted (Authorization headers, tokens, passwords, `pnl_` keys, Fernet tokens, URL passwords)."""

from __future__ import annotations

import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from app.core import context as request_context
from app.core.config import get_settings

REDACTED = "[REDACTED]"

# Names whose value is a secret wherever it appears as `name=value`, `name: value`, `"name": "value"`.
_SENSITIVE_NAMES = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|authorization|private[_-]?key|client[_-]?secret|"
    r"credentials?|secrets?[_-]?keys?)"
)
_QUOTED_OR_BARE = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s;&}\])\"']+)"  # a list "k1,k2" too
# (pattern, replacement, lowercase literals one of which a match contains: a cheap test that skips most text)
_PATTERNS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    # URL passwords: scheme://user:password@host (data source URLs, REDIS_URL, DATABASE_URL).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@'\"]*:)[^\s@'\"]+@"), rf"\1{REDACTED}@", ("://",)),
    # Authorization header values.
    (
        re.compile(r"\b([Bb]earer|BEARER|Basic)\s+[A-Za-z0-9._~+/\-]{8,}=*"),
        rf"\1 {REDACTED}",
        ("bearer", "basic"),
    ),
    # name=value pairs (keys of dicts, query strings, settings, reprs); bounded repeats keep it linear.
    (
        re.compile(rf"(?i)({_SENSITIVE_NAMES}\w{{0,40}}['\"]?\s*[:=]\s*){_QUOTED_OR_BARE}"),
        rf"\1{REDACTED}",
        ("pass", "pwd", "secret", "token", "key", "auth", "credential"),
    ),
    # JWTs (access and embed tokens), whatever they are called.
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"), REDACTED, ("eyj",)),
    # Fernet tokens (version byte 0x80 and a 64-bit timestamp: base64 "gAAAAA...").
    (re.compile(r"\bgAAAAA[A-Za-z0-9_\-]{20,}=*"), REDACTED, ("gaaaaa",)),
    # Painel API keys.
    (re.compile(r"\bpnl_[A-Za-z0-9_\-]{6,}"), f"pnl_{REDACTED}", ("pnl_",)),
)


_ANY_LITERAL = re.compile("|".join(re.escape(literal) for _, _, literals in _PATTERNS for literal in literals))


def redact(text: str) -> str:
    """The text with every secret the patterns recognise replaced by [REDACTED]."""
    lowered = text.lower()
    if _ANY_LITERAL.search(lowered) is None:
        return text
    for pattern, replacement, literals in _PATTERNS:
        if any(literal in lowered for literal in literals):
            text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


# Fields whose values the app itself produces (no secret can reach them): not scanned, which halves a line's cost.
_TRUSTED_FIELDS = frozenset(
    {"time", "level", "logger", "request_id", "org_id", "user_id", "pid", "route", "method", "status", "duration_ms"}
)

# uvicorn.access records carry (client, method, path, http version, status) as their arguments.
_UVICORN_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class ContextFilter(logging.Filter):
    """Adds the request context to every record (None outside a request) and names uvicorn's access fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = request_context.current()
        record.request_id = ctx.request_id if ctx else None
        record.org_id = ctx.org_id if ctx else None
        record.user_id = ctx.user_id if ctx else None
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            for name, value in zip(_UVICORN_ACCESS_FIELDS, record.args, strict=True):
                setattr(record, name, value)
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, org_id, user_id, pid, then the record's
    extra fields (route, method, status, duration_ms, ...) and the traceback of an error; all values redacted."""

    def __init__(self, use_colors: bool | None = None, **_: Any) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message", "request_id", "org_id", "user_id", "process"],
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "process": "pid",
                "exc_info": "traceback",
            },
            # uvicorn's coloured duplicate of its message, and the raw arguments already named above.
            reserved_attrs=[*logging.LogRecord("", 0, "", 0, None, None, None).__dict__, "message", "color_message"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 logging API
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: value if key in _TRUSTED_FIELDS else _redact_value(value) for key, value in log_data.items()}


class TextLogFormatter(logging.Formatter):
    """Plain lines for development: time, level, logger, [request id] message, the traceback; redacted."""

    def __init__(self, use_colors: bool | None = None, **_: Any) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return redact(super().format(record))


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The dictConfig of a Painel process: one stderr handler on the root logger, which uvicorn's loggers
    propagate to (so the server's own lines and its access log, when on, share the format)."""
    formatter = {"()": JsonLogFormatter if log_format == "json" else TextLogFormatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        # uvicorn sets use_colors on formatters named "default" and "access" when asked to: they are ours too.
        "formatters": {"painel": formatter, "default": formatter, "access": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "painel",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            **{
                name: {"handlers": [], "level": level, "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            "alembic": {"level": "WARNING"},  # its plugin registry says hello at INFO in every process
        },
    }


def configure_logging(*, force: bool = False) -> bool:
    """Install the LOG_FORMAT / LOG_LEVEL configuration; without force, only when nothing configured the root
    logger yet (python -m app.serve configures it before the app loads; a test runner has its own)."""
    if not force and logging.getLogger().handlers:
        return False
    settings = get_settings()
    logging.config.dictConfig(logging_config(settings.log_format, settings.LOG_LEVEL))
    return True
