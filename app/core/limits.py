"""Request body guards, applied while the body streams in: the size limit (Content-Length or chunked) and,
for JSON bodies, no NUL characters and a bounded nesting depth (422 instead of a parser or database crash)."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import context as request_context
from app.core.errors import PROBLEM_JSON

# Room for the multipart envelope and the small form fields around the file.
MULTIPART_SLACK_BYTES = 1 << 20
MAX_JSON_DEPTH = 32  # the deepest document the API takes (a dashboard import) needs 6
# A JSON \u0000 escape (not preceded by an escaped backslash), or a raw NUL byte.
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00", re.IGNORECASE)
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def json_text_problem(raw: bytes) -> str | None:
    """Why a JSON text is refused before parsing (NUL characters, nesting too deep), or None."""
    if _NUL.search(raw):
        return "Text values must not contain NUL (0x00) characters."
    depth, in_string, escaped_at = 0, False, -1
    for match in _STRUCTURE.finditer(raw):
        if match.start() == escaped_at:  # the character right after a backslash inside a string
            continue
        char = match.group()
        if char == b"\\":
            if in_string:
                escaped_at = match.end()
        elif char == b'"':
            in_string = not in_string
        elif not in_string:
            depth += 1 if char in b"[{" else -1
            if depth > MAX_JSON_DEPTH:
                return f"The JSON document is nested deeper than {MAX_JSON_DEPTH} levels."
    return None


def _problem(status: int, code: str, title: str, detail: str, path: str | None) -> tuple[list, bytes]:
    body: dict[str, Any] = {
        "type": f"https://painel.dev/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": path,
    }
    if (rid := request_context.request_id()) is not None:
        body["request_id"] = rid
    encoded = json.dumps(body).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(encoded)).encode())]
    return headers, encoded


class BodySizeLimit:
    """Pure ASGI middleware: 413 problem+json as soon as a request body exceeds the limit, and 422 for a JSON
    body with NUL characters or absurd nesting."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes + MULTIPART_SLACK_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, send)
            return
        if headers.get(b"content-type", b"").split(b";")[0].strip().lower() == b"application/json":
            replay = await self._checked_json(scope, receive, send)
            if replay is None:
                return
            receive = replay
        await self._limited(scope, receive, send)

    async def _checked_json(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Read the (size-limited) JSON body, refuse it when malformed in a dangerous way, else replay it."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return receive
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._too_large(scope, send)
                return None
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if (problem := json_text_problem(body)) is not None:
            code = "nul_character" if "NUL" in problem else "json_too_deep"
            await self._send(send, 422, *_problem(422, code, "Invalid request", problem, scope.get("path")))
            return None
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        received, exceeded, replaced = 0, False, False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # A body parser may swallow _TooLarge and answer 400 itself: the client gets the 413 it deserves.
            nonlocal replaced
            if exceeded and message["type"] == "http.response.start":
                replaced = True
                await self._too_large(scope, send)
                return
            if not replaced:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not replaced:
                replaced = True
                await self._too_large(scope, send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        limit_mb = (self.max_bytes - MULTIPART_SLACK_BYTES) // 2**20
        detail = f"The request body exceeds the {limit_mb} MB limit (MAX_UPLOAD_MB)."
        headers, body = _problem(413, "payload_too_large", "Payload too large", detail, scope.get("path"))
        await self._send(send, 413, [*headers, (b"connection", b"close")], body)

    @staticmethod
    async def _send(send: Send, status: int, headers: list, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
