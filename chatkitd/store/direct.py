"""Hot writes on the driver: statements built once, compiled once, run on ``sqlite3`` or ``asyncpg``.

Every chat request writes a few rows: its admission (the per-minute request
log), the user's item, the assistant's items, the thread's update and the
run's trace. Through SQLAlchemy's async layer each statement costs far more
than the database's own work: a pooled connection checkout (with a pre-ping
round trip and a rollback on return on PostgreSQL), a greenlet hand-off per
call, the compiled cache's lookup and a result wrapper. So the hot writes, as
the hot reads (``chatkitd.store.readers``), hand a statement's SQL and values
straight to the driver, through ``Database.write_direct()``:

- on SQLite, inside the group commit's transaction (``group_commit``), on its
  ``sqlite3`` connection, inline: the write lock is already held, so a
  statement waits for nothing;
- on PostgreSQL, on a connection of the pool of hot statements, each
  statement prepared once per connection; a write of one statement
  (``single=True``) is its own transaction (no ``BEGIN`` and ``COMMIT`` round
  trips), others are one ``BEGIN`` ... ``COMMIT``.

Statements are SQLAlchemy Core objects: keep them (build them at import, or
cache them per shape) and reuse them, their SQL is compiled once per set of
parameter names. Values go to the driver as they are (``str``, ``float``,
``int``, ``bool``, ``None``): no SQLAlchemy type processing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Params = dict[str, Any]
# A statement's SQL text, the names of its values in order, and the values SQLAlchemy set itself.
_Sql = tuple[str, tuple[str, ...], Params]


class Direct(Protocol):
    """One write transaction's statements, run on the driver."""

    dialect: str  # "sqlite" or "postgresql"

    async def execute(self, statement: ClauseElement, params: Params) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    async def execute_many(self, statement: ClauseElement, rows: Sequence[Params]) -> None:
        """Run a statement once per row (the rows have the same keys)."""
        ...

    async def fetch(self, statement: ClauseElement, params: Params) -> list[tuple]:
        """Run a statement that returns rows (a ``SELECT``, or a write ``RETURNING``); its rows."""
        ...


class Compiled:
    """SQL text and the order of its values, per statement and set of parameter names.

    The names matter for an ``INSERT`` or ``UPDATE`` given its values as
    parameters: they are the columns it sets (``column_keys``).
    """

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._cache: dict[tuple[ClauseElement, tuple[str, ...]], _Sql] = {}

    def __call__(self, statement: ClauseElement, params: Params) -> tuple[str, tuple[Any, ...]]:
        sql, names, defaults = self._compile(statement, tuple(params))
        return sql, tuple(params[name] if name in params else defaults[name] for name in names)

    def many(self, statement: ClauseElement, rows: Sequence[Params]) -> tuple[str, list[tuple[Any, ...]]]:
        sql, names, defaults = self._compile(statement, tuple(rows[0]))
        return sql, [tuple(row[name] if name in row else defaults[name] for name in names) for row in rows]

    def _compile(self, statement: ClauseElement, keys: tuple[str, ...]) -> _Sql:
        found = self._cache.get((statement, keys))
        if found is None:
            sql = cast(SQLCompiler, statement.compile(dialect=self._dialect, column_keys=list(keys)))
            # Binds SQLAlchemy added itself (such as OFFSET 0) carry their own values.
            defaults = {name: bind.value for name, bind in sql.binds.items()}
            found = self._cache[(statement, keys)] = (str(sql), tuple(sql.positiontup or ()), defaults)
        return found


class SqliteDirect:
    """Statements on the group commit transaction's ``sqlite3`` connection, inline."""

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection, compiled: Compiled) -> None:
        self._connection = connection
        self._compiled = compiled

    async def execute(self, statement: ClauseElement, params: Params) -> int:
        sql, values = self._compiled(statement, params)
        return self._connection.execute(sql, values).rowcount

    async def execute_many(self, statement: ClauseElement, rows: Sequence[Params]) -> None:
        if rows:
            sql, values = self._compiled.many(statement, rows)
            self._connection.executemany(sql, values)

    async def fetch(self, statement: ClauseElement, params: Params) -> list[tuple]:
        sql, values = self._compiled(statement, params)
        return self._connection.execute(sql, values).fetchall()


class PostgresDirect:
    """Statements on one ``asyncpg`` connection; with ``single``, only one (its own transaction)."""

    dialect = "postgresql"

    def __init__(self, connection: asyncpg.Connection, compiled: Compiled, single: bool) -> None:
        self._connection = connection
        self._compiled = compiled
        self._single = single
        self._ran = 0

    def _next(self) -> None:
        self._ran += 1
        if self._single and self._ran > 1:
            raise RuntimeError("a single-statement direct write ran a second statement")

    async def execute(self, statement: ClauseElement, params: Params) -> int:
        self._next()
        sql, values = self._compiled(statement, params)
        status = await self._connection.execute(sql, *values)
        # "INSERT 0 1", "UPDATE 3", "DELETE 0": the count is the last word.
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def execute_many(self, statement: ClauseElement, rows: Sequence[Params]) -> None:
        if rows:
            self._next()
            sql, values = self._compiled.many(statement, rows)
            await self._connection.executemany(sql, values)

    async def fetch(self, statement: ClauseElement, params: Params) -> list[tuple]:
        self._next()
        sql, values = self._compiled(statement, params)
        return [tuple(row) for row in await self._connection.fetch(sql, *values)]
