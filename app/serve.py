"""Production entry point: `python -m app.serve --workers 4 --host 0.0.0.0 --port 8000` (any uvicorn option).

With --workers N, uvicorn binds the listening socket itself and leaves its protocol unset, so asyncio never enables
TCP_NODELAY on accepted connections and every keep-alive response waits ~40 ms for the client's delayed ACK
(uvicorn issue #3149, Linux). This entry point marks the socket as TCP before the workers inherit it.
"""

from __future__ import annotations

import socket
import sys

import uvicorn.config
from uvicorn.main import main as uvicorn_main

_bind_socket = uvicorn.config.Config.bind_socket


def _bind_tcp_socket(self: uvicorn.config.Config) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp
    return sock


def main() -> None:
    uvicorn.config.Config.bind_socket = _bind_tcp_socket  # type: ignore[method-assign]  # the fix above
    sys.argv = ["uvicorn", "app.main:app", *sys.argv[1:]]
    uvicorn_main()


if __name__ == "__main__":
    main()
