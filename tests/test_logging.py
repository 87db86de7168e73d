"""Log lines: JSON fields of request and error lines, the text format, and no secret in any of them."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.logging import REDACTED, ContextFilter, JsonLogFormatter, TextLogFormatter, logging_config, redact
from app.core.security import create_access_token, encrypt_secret
from app.main import create_app


@contextmanager
def captured(*names: str, formatter: logging.Formatter | None = None) -> Iterator[io.StringIO]:
    """What the named loggers write through the production handler setup (filter + formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter or JsonLogFormatter())
    handler.addFilter(ContextFilter())
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_request_line_has_every_field(client, org_a):
    with captured("painel.access") as stream:
        r = client.get("/dashboards/4242", headers=org_a.headers("Viewer"))
    assert r.status_code == 404
    (line,) = lines(stream)
    assert datetime.fromisoformat(line.pop("time")).tzinfo is not None
    duration = line.pop("duration_ms")
    assert isinstance(duration, float) and duration > 0
    assert line == {
        "level": "INFO",
        "logger": "painel.access",
        "message": f"GET /dashboards/4242 404 {duration:.2f} ms",
        "request_id": r.headers["X-Request-ID"],
        "org_id": org_a.id,
        "user_id": org_a.users["Viewer"],
        "pid": os.getpid(),
        "route": "/dashboards/{dashboard_id}",
        "method": "GET",
        "path": "/dashboards/4242",
        "status": 404,
        "client": "testclient",
    }


def test_an_anonymous_request_line_has_no_identity_and_keeps_a_given_request_id(client):
    with captured("painel.access") as stream:
        r = client.post(
            "/auth/token", data={"username": "x@example.com", "password": "y"}, headers={"X-Request-ID": "abc-1"}
        )
    assert r.status_code == 401
    (line,) = lines(stream)
    assert (line["request_id"], line["org_id"], line["user_id"]) == ("abc-1", None, None)
    assert (line["route"], line["method"], line["status"]) == ("/auth/token", "POST", 401)


def test_an_error_line_keeps_its_traceback_and_request_id():
    app = create_app()

    @app.get("/explode")
    def explode() -> None:
        raise RuntimeError("exploded while computing")

    with captured("painel.errors", "painel.access") as stream, TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/explode")
    assert r.status_code == 500 and "exploded" not in r.text
    error, access = lines(stream)
    assert error["level"] == "ERROR" and error["logger"] == "painel.errors"
    assert error["request_id"] == r.headers["X-Request-ID"] == r.json()["request_id"] == access["request_id"]
    assert "Traceback (most recent call last)" in error["traceback"]
    assert "RuntimeError: exploded while computing" in error["traceback"]
    assert (access["status"], access["route"]) == (500, "/explode")


SECRETS = {
    "jwt": create_access_token(1, 1),
    "url_password": "S3cr3t-Pw-for-the-db",
    "password": "hunter2-correct-horse",
    "spaced_password": "correct horse battery staple",
    "api_key": "pnl_live_9f8e7d6c5b4a3210",
    "fernet": encrypt_secret("the data source password"),
    "basic": "dXNlcjpwYXNzd29yZC0xMjM0NQ==",
    "secrets_keys": "k3yOne-AAAAAAAAAAAAAAAAAAAAAAA,k3yTwo-BBBBBBBBBBBBBBBBBBBBBBB",
}


def _log_every_kind_of_secret(logger: logging.Logger) -> None:
    s = SECRETS
    logger.info("request headers: {'authorization': 'Bearer %s'}", s["jwt"])
    logger.info("Authorization: Basic %s", s["basic"])
    logger.info("connecting to postgresql+psycopg2://painel:%s@db.internal:5432/painel", s["url_password"])
    logger.info("sign-in form password=%s&username=a@b.c", s["password"])
    logger.info("payload %s", {"email": "a@b.c", "password": s["spaced_password"]})
    logger.info("stored %s for the source", s["fernet"])
    logger.info("called with key %s", s["api_key"])
    logger.info("settings SECRETS_KEYS=%s", s["secrets_keys"])
    logger.info("embed token %s", s["jwt"])
    logger.info(
        "with extras",
        extra={"headers": {"Authorization": f"Bearer {s['jwt']}"}, "dsn": f"redis://:{s['url_password']}@r:6379/0"},
    )
    try:
        raise ValueError(f"could not connect with password={s['password']}")
    except ValueError:
        logger.exception("connection failed")


@pytest.mark.parametrize("formatter", [JsonLogFormatter(), TextLogFormatter()], ids=["json", "text"])
def test_no_secret_reaches_a_log_line(formatter):
    with captured("painel.test.secrets", formatter=formatter) as stream:
        _log_every_kind_of_secret(logging.getLogger("painel.test.secrets"))
    output = stream.getvalue()
    leaked = [name for name, secret in SECRETS.items() if secret in output or secret.split(",")[-1] in output]
    assert leaked == []
    for part in ("horse", "hunter2", "S3cr3t", "9f8e7d6c"):
        assert part not in output
    assert output.count(REDACTED) >= 11
    # What is not a secret stays readable.
    for kept in ("db.internal:5432/painel", "username=a@b.c", "'email': 'a@b.c'", "connection failed", "ValueError"):
        assert kept in output or kept.replace("'", '"') in output


def test_redaction_leaves_ordinary_text_alone():
    for text in (
        "GET /dashboards/{dashboard_id} 200 3.1 ms",
        "Token has expired",
        "tick: 2 due, 1 ran here, 0 abandoned runs reaped",
        "postgresql+psycopg2://painel@db:5432/painel",
        "the basic idea",
    ):
        assert redact(text) == text


def test_text_lines_for_development():
    with captured("painel.test.text", formatter=TextLogFormatter()) as stream:
        logging.getLogger("painel.test.text").warning("disk at %d%%", 91)
    (line,) = stream.getvalue().splitlines()
    stamp, level, name, request_id, *message = line.split(" ")[1:]
    assert (level, name, request_id, " ".join(message)) == ("WARNING", "painel.test.text", "[-]", "disk at 91%")
    assert stamp


def test_log_format_defaults_by_environment_and_is_validated():
    assert Settings(_env_file=None, APP_ENV="development").log_format == "text"
    assert Settings(_env_file=None, APP_ENV="production").log_format == "json"
    assert Settings(_env_file=None, APP_ENV="development", LOG_FORMAT="JSON").log_format == "json"
    assert Settings(_env_file=None, APP_ENV="production", LOG_FORMAT="text").log_format == "text"
    assert Settings(_env_file=None, LOG_LEVEL="warning").LOG_LEVEL == "WARNING"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        Settings(_env_file=None, LOG_FORMAT="xml")


def test_uvicorn_loggers_share_the_root_handler():
    config = logging_config("json", "INFO")
    assert config["root"]["handlers"] == ["stderr"]
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert config["loggers"][name] == {"handlers": [], "level": "INFO", "propagate": True}
    # uvicorn sets use_colors on its two formatter names: ours accept and ignore it.
    assert JsonLogFormatter(use_colors=True) and TextLogFormatter(use_colors=False)


def test_uvicorn_access_records_get_named_fields():
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/health?x=1", "1.1", 200), None,
    )  # fmt: skip
    assert ContextFilter().filter(record)
    line = json.loads(JsonLogFormatter().format(record))
    assert (line["client"], line["method"], line["path"], line["status"]) == (
        "127.0.0.1:5000",
        "GET",
        "/health?x=1",
        200,
    )
    assert line["message"] == '127.0.0.1:5000 - "GET /health?x=1 HTTP/1.1" 200'
