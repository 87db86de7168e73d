"""Small temporary lookup tables of this transaction, filled with COPY (text format, NULL as \\N)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection

from app.core.db import driver_connection


def _field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def create(connection: Connection, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> int:
    """CREATE TEMP TABLE name (columns) and COPY the rows into it; returns the number of rows."""
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    spec = ", ".join(f"{column} {kind}" for column, kind in columns)
    connection.exec_driver_sql(f"CREATE TEMP TABLE {name} ({spec}) ON COMMIT DROP")
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(map(_field, row)) + "\n")
        count += 1
    if count:
        buffer.seek(0)
        with driver_connection(connection).cursor() as cursor:
            cursor.copy_expert(f"COPY {name} FROM STDIN", buffer)
        connection.exec_driver_sql(f"ANALYZE {name}")
    return count


def drop(connection: Connection, *names: str) -> None:
    for name in names:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
