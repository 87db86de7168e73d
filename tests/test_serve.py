"""The production entry point: a TCP listener for multi-worker uvicorn (TCP_NODELAY), a fresh metrics directory,
and the app's access log instead of uvicorn's."""

import os
import socket

import uvicorn.config

from app.serve import MULTIPROC_ENV, _bind_tcp_socket, prepare_metrics_dir, uvicorn_arguments


def test_listener_is_marked_tcp():
    config = uvicorn.config.Config("app.main:app", host="127.0.0.1", port=0)
    sock = _bind_tcp_socket(config)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
    finally:
        sock.close()


def test_uvicorn_access_log_is_off_unless_asked_for():
    assert uvicorn_arguments(["--workers", "2"]) == ["uvicorn", "app.main:app", "--workers", "2", "--no-access-log"]
    assert uvicorn_arguments(["--access-log"]) == ["uvicorn", "app.main:app", "--access-log"]


def test_the_metrics_directory_is_fresh_or_emptied(tmp_path, monkeypatch):
    monkeypatch.setenv(MULTIPROC_ENV, "")  # recorded, so the variable prepare_metrics_dir sets is undone
    monkeypatch.delenv(MULTIPROC_ENV)
    created = prepare_metrics_dir()
    assert created is not None and os.environ[MULTIPROC_ENV] == str(created) and not any(created.iterdir())
    created.rmdir()
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"old samples")
    (given / "keep.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROC_ENV, str(given))
    assert prepare_metrics_dir() is None
    assert sorted(p.name for p in given.iterdir()) == ["keep.txt"]
