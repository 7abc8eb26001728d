"""Prepared reads: the hottest statements, compiled once and run on the driver directly.

REST pages, the conversation's thread and item loads and session lookups are
short indexed reads, made many times a second. Through SQLAlchemy's async
layer each one pays for a cache key, a pooled connection checkout (with a
pre-ping round trip on PostgreSQL) and result processing, which together cost
far more than the query. Here a statement built once with bind parameters is
compiled once, and each call hands its SQL and values straight to the driver:
``sqlite3`` inline on the event loop, or a pool of ``asyncpg`` connections.
Rows come back as plain tuples, in the driver's own types.

Every database answers through the one ``Reader`` interface; ``EngineReader``
(SQLAlchemy's own connections) serves the cases no faster path covers, such as
an in-memory SQLite database.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from chatkitd.compat.sqlalchemy import asyncpg_connect_args
from chatkitd.store.availability import DatabaseUnreachable
from chatkitd.store.direct import Compiled

# What a connection the server ended raises on its next use. An idle connection
# that received the server's goodbye can be left in a state asyncpg reports as
# an internal error.
_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)


class Reader(Protocol):
    async def fetch_all(self, statement: Select, params: dict[str, Any]) -> list[tuple]:
        """The rows of a statement built once with bind parameters (keep it, and reuse it)."""
        ...

    async def close(self) -> None: ...


class EngineReader:
    """Reads through SQLAlchemy's own pooled connections."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def fetch_all(self, statement: Select, params: dict[str, Any]) -> list[tuple]:
        async with self._engine.connect() as conn:
            return [tuple(row) for row in (await conn.execute(statement, params)).all()]

    async def close(self) -> None:
        """The engine belongs to the database, which disposes of it."""


class SqliteReader:
    """One ``sqlite3`` connection, used inline on the event loop.

    There is no ``await`` between query and result, so one connection serves
    every caller on the loop; in WAL mode a read never waits for a writer.
    """

    def __init__(self, path: str, dialect: Dialect) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._compiled = Compiled(dialect)

    def _connect(self) -> sqlite3.Connection:
        # Opened on first use, after migrations have put the file in WAL mode.
        connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA busy_timeout=10000")
        connection.execute("PRAGMA query_only=ON")
        self._connection = connection
        return connection

    async def fetch_all(self, statement: Select, params: dict[str, Any]) -> list[tuple]:
        # Nothing here awaits: the read runs inline, start to end.
        sql, values = self._compiled(statement, params)
        connection = self._connection or self._connect()
        return connection.execute(sql, values).fetchall()

    def data_version(self) -> int:
        """SQLite's count of commits by other connections, which is all of them."""
        connection = self._connection or self._connect()
        return connection.execute("PRAGMA data_version").fetchone()[0]

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def _end_transaction(connection: asyncpg.Connection) -> None:
    """A connection going back to the pool needs no other reset: hot statements set no session
    state (a ``SET LOCAL`` ends with its transaction), and a transaction is only ever left
    open by a write that failed to roll back."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class PostgresReader:
    """A pool of ``asyncpg`` connections, opened on first use with SQLAlchemy's own
    connection arguments, so the URL means the same to both: the hot reads' and,
    through ``connection()``, the hot writes' (``chatkitd.store.direct``).

    asyncpg keeps each statement prepared per connection (unless
    ``prepared_statements`` is off, for a pooler in transaction mode). A
    connection goes back to the pool as it is, out of any transaction:
    asyncpg's default reset (``RESET ALL``, ``UNLISTEN *``...) is a round trip
    per use, for session state nothing sets. A connection the server closed (a
    restart, an idle timeout) fails its next query. When one does, every
    pooled connection is presumed gone with it and replaced, and a read, which
    is idempotent, is made once more (a write is not: it fails, a 503).
    """

    def __init__(
        self, url: URL, dialect: Dialect, max_connections: int, *, prepared_statements: bool = True
    ) -> None:
        args, kwargs = asyncpg_connect_args(url, dialect)
        if not prepared_statements:
            kwargs["statement_cache_size"] = 0
        self._connect_args = (args, kwargs)
        self.max_connections = max_connections
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._compiled = Compiled(dialect)

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                args, kwargs = self._connect_args
                # No floor of connections to keep: asyncpg restores one in the background,
                # logging a traceback every retry while the database is away.
                self._pool = await asyncpg.create_pool(
                    *args, min_size=0, max_size=self.max_connections, reset=_end_transaction, **kwargs
                )
        return self._pool

    async def fetch_all(self, statement: Select, params: dict[str, Any]) -> list[tuple]:
        sql, values = self._compiled(statement, params)
        pool = self._pool or await self._open()
        try:
            return await self._fetch(pool, sql, values)
        except _CONNECTION_LOST:
            await pool.expire_connections()
            return await self._fetch(pool, sql, values)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for a write; one the server ended is replaced, with the others."""
        pool = self._pool or await self._open()
        async with _acquired(pool) as connection:
            try:
                yield connection
            except _CONNECTION_LOST:
                connection.terminate()
                await pool.expire_connections()
                raise

    @staticmethod
    async def _fetch(pool: asyncpg.Pool, sql: str, values: tuple[Any, ...]) -> list[tuple]:
        async with _acquired(pool) as connection:
            try:
                rows = await connection.fetch(sql, *values)
            except _CONNECTION_LOST:
                connection.terminate()  # so the pool opens a new one in its place
                raise
        return [tuple(row) for row in rows]

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


@asynccontextmanager
async def _acquired(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """``pool.acquire()``, where failing to connect is always the database being unreachable."""
    try:
        connection = await pool.acquire()
    except ConnectionError:
        raise
    except OSError as error:
        raise DatabaseUnreachable(f"could not connect to the database: {error}") from error
    try:
        yield connection
    finally:
        await pool.release(connection)
