"""The production entry point gives multi-worker uvicorn a TCP listener, so connections get TCP_NODELAY."""

import socket

import uvicorn.config

from app.serve import _bind_tcp_socket


def test_listener_is_marked_tcp():
    config = uvicorn.config.Config("app.main:app", host="127.0.0.1", port=0)
    sock = _bind_tcp_socket(config)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
    finally:
        sock.close()
