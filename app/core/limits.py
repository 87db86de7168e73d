"""Request body size limit, enforced while the body streams in (Content-Length or chunked)."""

from __future__ import annotations

import json

from app.core.errors import PROBLEM_JSON

# Room for the multipart envelope and the small form fields around the file.
MULTIPART_SLACK_BYTES = 1 << 20


class BodySizeLimit:
    """Pure ASGI middleware: 413 problem+json as soon as a request body exceeds the limit."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes + MULTIPART_SLACK_BYTES

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._reject(scope, send)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send)

    async def _reject(self, scope, send) -> None:
        limit_mb = (self.max_bytes - MULTIPART_SLACK_BYTES) // 2**20
        body = json.dumps(
            {
                "type": "https://painel.dev/problems/payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "code": "payload_too_large",
                "instance": scope.get("path"),
                "detail": f"The request body exceeds the {limit_mb} MB limit (MAX_UPLOAD_MB).",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
