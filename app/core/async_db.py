"""An asyncio connection pool (psycopg 3) for the statement every request with a user token sends: its membership and
its org's data state (app.services.tenancy.caller_state_async).

Through SQLAlchemy and psycopg2 that statement blocks, so it ran in a worker thread: the thread hop, the GIL handoffs
and the session cost a cached indicator more CPU than everything else it does, and lengthened its tail. Here it runs
on the event loop, so a cache hit takes no worker thread and no SQLAlchemy connection at all (docs/PERFORMANCE.md).

The tenant settings travel as the app's sessions send them (app.core.db): "SELECT set_config(...); <statement>" in
one simple query on an autocommit connection, which Postgres runs as one transaction, the settings first; the
parameters are bound client-side (plain ids and the statement's own constants). Postgres only; SQLite, and an app
started without its lifespan (some tests), keep the thread path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import AsyncClientCursor
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import make_url

log = logging.getLogger("painel.db")

# The name in app.state of the pool (app.main's lifespan creates it on Postgres).
CALLER_POOL = "caller_pool"


def libpq_url(database_url: str) -> str:
    """DATABASE_URL (`postgresql+psycopg2://...`) as the libpq connection URI psycopg 3 takes."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncStatementPool:
    """At most `size` connections, opened in the background (the app starts even while the database is down)."""

    def __init__(self, database_url: str, size: int) -> None:
        self._pool = AsyncConnectionPool(
            libpq_url(database_url),
            min_size=1,
            max_size=size,
            kwargs={"autocommit": True},
            open=False,
            timeout=10,
            name="painel-caller",
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def fetch_one(self, settings: Sequence[str], sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of `sql` (pyformat parameters), run after the `set_config(...)` calls in one round trip."""
        async with self._pool.connection() as connection:
            cursor = AsyncClientCursor(connection)
            try:
                if settings:
                    await cursor.execute(f"SELECT {', '.join(settings)}; {sql}", params)
                    cursor.nextset()
                else:
                    await cursor.execute(sql, params)
                return await cursor.fetchone()
            finally:
                await cursor.close()
