"""What a read service answers over HTTP, without knowing HTTP: a JSON body with its ETag (cacheable or not), a
"not modified", or a file to stream. app/routers/caching.py turns it into a response."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.exports import ExportFile


@dataclass(frozen=True)
class Served:
    etag: str | None  # None: the body is partial and must not be reused (no ETag, no-store)
    body: bytes | None = None  # the JSON body, already serialized
    file: ExportFile | None = None
    not_modified: bool = False

    @classmethod
    def unchanged(cls, etag: str) -> Served:
        return cls(etag=etag, not_modified=True)
