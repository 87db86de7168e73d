"""The Dockerfile and docker-compose.yml run what exists in this repo (no Docker engine here: every service's
command is started or parsed for real, against a scratch SQLite database) and what the README documents."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from alembic.script import ScriptDirectory

from app.cron.__main__ import parse_args
from app.services.health import alembic_config

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "api", "scheduler")
README = (ROOT / "README.md").read_text()


def dockerfile() -> dict[str, list[str]]:
    """Instruction -> its arguments (joined continuation lines), in order, for the instructions this test reads."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            out.setdefault(instruction.upper(), []).append(rest.strip())
    return out


def exec_form(argument: str) -> list[str]:
    assert argument.startswith("["), f"use the exec form (a JSON list), not a shell string: {argument}"
    return json.loads(argument)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_option(command: list[str], option: str, value: str) -> list[str]:
    """The command with an option's value replaced (servers here listen on 127.0.0.1 and a free port only)."""
    out = list(command)
    out[out.index(option) + 1] = value
    return out


@pytest.fixture
def scratch_env(tmp_path) -> dict[str, str]:
    """The suite's settings with a database of this test's own."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.db'}", "SCHEDULER_ENABLED": "false"}


def run(command: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    executable = sys.executable if command[0] == "python" else str(Path(sys.executable).parent / command[0])
    return subprocess.run(
        [executable, *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_compose_has_the_documented_services_and_order():
    assert set(SERVICES) == {"postgres", "redis", *APP_SERVICES}
    api, scheduler, migrate = SERVICES["api"], SERVICES["scheduler"], SERVICES["migrate"]
    assert migrate["command"] == ["alembic", "upgrade", "head"] and migrate["restart"] == "no"
    assert api["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert scheduler["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert api["environment"]["SCHEDULER_ENABLED"] == "false"
    assert "SCHEDULER_ENABLED" not in scheduler["environment"]  # the scheduler process runs the ticks
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["APP_ENV"] == "production" and env["DATABASE_URL"].startswith("postgresql+psycopg2://")
        assert env["REDIS_URL"] == "redis://redis:6379/0" and env["LOG_FORMAT"] == "json"
        assert {"JWT_SECRET", "SECRETS_KEYS", "METRICS_TOKEN", "CORS_ORIGINS"} <= set(env)
        assert SERVICES[name]["build"] == "."
    assert api["command"] == exec_form(dockerfile()["CMD"][-1])  # the api runs the image's own command


def test_each_compose_command_is_documented_in_the_readme():
    for name in APP_SERVICES:
        assert shlex.join(SERVICES[name]["command"]) in README, f"README does not show the {name} command"


def test_the_migrate_service_migrates_a_scratch_database(scratch_env):
    result = run(SERVICES["migrate"]["command"], scratch_env)
    assert result.returncode == 0, result.stderr
    from sqlalchemy import create_engine, text

    engine = create_engine(scratch_env["DATABASE_URL"])
    with engine.connect() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert {current} == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_the_scheduler_service_starts_ticks_and_serves_metrics(scratch_env):
    assert run(SERVICES["migrate"]["command"], scratch_env).returncode == 0
    command = SERVICES["scheduler"]["command"]
    assert command[:3] == ["python", "-m", "app.cron"]
    assert parse_args(command[3:]).metrics_port == 9100
    helped = run([*command[:3], "--help"], scratch_env)
    assert helped.returncode == 0 and "--metrics-port" in helped.stdout
    once = run([*command[:3], "--once"], scratch_env)
    assert once.returncode == 0, once.stderr
    port = free_port()
    started = [*with_option(command, "--metrics-port", str(port)), "--metrics-host", "127.0.0.1"]
    proc = subprocess.Popen([sys.executable, *started[1:]], cwd=ROOT, env=scratch_env, stderr=subprocess.PIPE)
    try:
        body = ""
        for _ in range(300):  # bounded: up to 30 s for the process to start and tick
            with contextlib.suppress(httpx.HTTPError):
                body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
                if "painel_scheduler_ticks_total 1.0" in body:
                    break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.1)
        assert "painel_scheduler_ticks_total 1.0" in body  # the tick it runs at start
        assert httpx.get(f"http://127.0.0.1:{port}/other", timeout=2).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_image_command_serves_and_its_healthcheck_passes(scratch_env):
    assert run(SERVICES["migrate"]["command"], scratch_env).returncode == 0
    instructions = dockerfile()
    command = exec_form(instructions["CMD"][-1])
    assert command[:3] == ["python", "-m", "app.serve"]
    (healthcheck,) = instructions["HEALTHCHECK"]
    check = exec_form(healthcheck.split(" CMD ", 1)[1])
    assert check == ["python", "-m", "app.healthcheck"]
    port = free_port()
    serving = with_option(with_option(command, "--host", "127.0.0.1"), "--port", str(port))
    env = {**scratch_env, "WEB_CONCURRENCY": "1"}
    proc = subprocess.Popen([sys.executable, *serving[1:]], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        check_env = {**env, "HEALTHCHECK_URL": f"http://127.0.0.1:{port}/health/ready"}
        for _ in range(300):  # bounded: up to ~60 s for the server to come up
            if run(check, check_env, timeout=10).returncode == 0:
                break
            assert proc.poll() is None, "the image's command exited"
            time.sleep(0.2)
        else:
            pytest.fail("the healthcheck never passed")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert run(check, check_env, timeout=10).returncode == 1  # and fails once the server is gone


def test_the_serve_options_used_are_uvicorns():
    uvicorn_cli = importlib.import_module("uvicorn.main")
    for command in (exec_form(dockerfile()["CMD"][-1]), SERVICES["api"]["command"]):
        context = uvicorn_cli.main.make_context("uvicorn", ["app.main:app", *command[3:]])
        assert context.params["proxy_headers"] is True
        assert context.params["timeout_graceful_shutdown"] == 30 and context.params["timeout_keep_alive"] == 75


def test_the_dockerfile_builds_a_slim_non_root_image_without_dev_dependencies():
    instructions = dockerfile()
    (base,) = instructions["FROM"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base)
    user = instructions["USER"][-1]
    assert (
        user not in ("root", "0")
        and instructions["RUN"][-1].startswith("useradd")
        and "10001" in instructions["RUN"][-1]
    )
    assert "pip install -r requirements.txt" in instructions["RUN"]
    text = (ROOT / "Dockerfile").read_text()
    assert "requirements-dev" not in text.replace("requirements-dev.txt (tests, linters) stays out", "")
    for copy in instructions["COPY"]:
        *sources, _destination = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
    assert "HEALTHCHECK_URL" not in text  # the check's default URL is the image's own port
    assert "8000" in " ".join(instructions["EXPOSE"]) and '--port", "8000' in instructions["CMD"][-1]


def test_dockerignore_keeps_local_state_out():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    assert {".venv", "var", ".git", ".env", "tests", "test-output", ".pytest_cache", ".mypy_cache"} <= ignored
    assert {".ruff_cache", ".schemathesis", "credentials.json", "token.json", "__pycache__"} <= ignored
    assert not {"app", "alembic", "alembic.ini", "requirements.txt"} & ignored
