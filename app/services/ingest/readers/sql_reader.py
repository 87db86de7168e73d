"""A customer database query as a table: streamed with a server-side cursor, read once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, text

from app.services.ingest.readers.base import DEFAULT_CHUNK_SIZE, Chunk, clean_header


class SqlReader:
    """Streams a validated SELECT in chunks (bounded memory). Not replayable: the pipeline profiles the first
    chunk instead of making a second pass over the customer's database."""

    replayable = False

    def __init__(
        self, engine: Engine, sql: str, binds: dict[str, Any] | None = None, track_max_of: str | None = None
    ) -> None:
        self._engine = engine
        self._conn = engine.connect()
        try:
            self._conn.begin()
            self._result = self._conn.execution_options(yield_per=DEFAULT_CHUNK_SIZE).execute(text(sql), binds or {})
        except BaseException:
            self._conn.close()
            raise
        keys = [str(key) for key in self._result.keys()]  # noqa: SIM118 a Result iterates rows, not keys
        self.header = clean_header(keys)
        self.header_line = 0
        self._track = keys.index(track_max_of) if track_max_of in keys else None
        self.max_value: Any = None
        self._consumed = False

    def info(self) -> dict[str, object]:
        return {"dialect": self._engine.dialect.name}

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[Chunk]:
        if self._consumed:
            raise RuntimeError("a SQL source is read once")
        self._consumed = True
        line = 0
        try:
            for partition in self._result.partitions(size):
                rows = [list(row) for row in partition]
                if self._track is not None:
                    values = [row[self._track] for row in rows if row[self._track] is not None]
                    if values:
                        top = max(values)
                        self.max_value = top if self.max_value is None else max(self.max_value, top)
                yield Chunk(line_numbers=list(range(line + 1, line + len(rows) + 1)), rows=rows)
                line += len(rows)
        finally:
            self.close()

    def close(self) -> None:
        if not self._conn.closed:
            self._conn.rollback()
            self._conn.close()
