"""The database handle: one async engine, with read and write connections.

SQLite runs in WAL mode so reads stay concurrent, and writes are serialized:
in-process by a lock, across processes by ``BEGIN IMMEDIATE`` and a busy
timeout. Its reads, and the statements of its writes, run on the event loop's
thread (``chatkitd.compat.aiosqlite``); whatever may wait (for a lock, a disk
sync) runs on aiosqlite's.
PostgreSQL needs none of this.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import Select, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from chatkitd.compat.aiosqlite import InlineConnection, open_inline
from chatkitd.store.readers import EngineReader, PostgresReader, Reader, SqliteReader

_WRITE = "chatkitd_write"


class _WriterConnection(InlineConnection):
    """The writer's connection: inline, except for the calls that may wait.

    A write transaction makes a dozen calls (cursors, statements, results), and
    on aiosqlite's thread each costs a hand-off. Only three kinds can take long:
    taking the write lock (``BEGIN IMMEDIATE`` waits, up to the busy timeout,
    for another process's writer), ending a transaction (a commit may
    checkpoint the WAL and sync the disk), and deletes (a thread's delete
    removes all its items). Those still go to the thread, so the loop never
    waits on them; everything between them runs inline.
    """

    def runs_on_worker(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
        return _may_wait(fn, args)


_WAITING_STATEMENTS = ("BEGIN", "COMMIT", "ROLLBACK", "END", "DELETE")


def _may_wait(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    name = getattr(fn, "__name__", "")
    if name in ("commit", "rollback", "close"):
        connection = getattr(fn, "__self__", None)
        if not isinstance(connection, sqlite3.Connection):
            return False  # a cursor's close
        # Ending no transaction does nothing: the pool's rollback on every return.
        return name == "close" or connection.in_transaction
    if name == "executescript":
        return True
    if name in ("execute", "executemany") and args and isinstance(args[0], str):
        words = args[0].split(None, 1)
        return bool(words) and words[0].upper() in _WAITING_STATEMENTS
    return False


def _inline_sqlite_creator(
    path: str, kind: type[InlineConnection] = InlineConnection
) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    return functools.partial(open_inline, path, kind)


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        database = self.url.database
        # The SQLite file, when there is one (not PostgreSQL, not in-memory SQLite).
        sqlite_file = database if self.is_sqlite and database and database != ":memory:" else None
        if sqlite_file is not None:
            Path(sqlite_file).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=20, max_overflow=20, pool_pre_ping=True)
        if sqlite_file is not None:
            kwargs["async_creator"] = _inline_sqlite_creator(sqlite_file, _WriterConnection)
        # The writer (and migrations). On SQLite, one write at a time: the lock below.
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self._read_engine = self.engine
        self._sqlite_reader: SqliteReader | None = None
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        if sqlite_file is not None:
            # A fixed pool: opening a connection goes through aiosqlite's thread and
            # suspends, so overflow connections opened and closed under load would churn.
            self._read_engine = create_async_engine(
                self.url,
                echo=echo,
                async_creator=_inline_sqlite_creator(sqlite_file),
                pool_size=20,
                max_overflow=0,
            )
            _configure_sqlite(self._read_engine)
            self._sqlite_reader = SqliteReader(sqlite_file, self.engine.dialect)
        # The hot reads: raw sqlite3 or asyncpg, else SQLAlchemy's connections.
        self.reader: Reader = (
            self._sqlite_reader
            if self._sqlite_reader is not None
            else EngineReader(self._read_engine)
            if self.is_sqlite
            else PostgresReader(self.url, self.engine.dialect, max_connections=10)
        )

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._read_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed when the block ends."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(**{_WRITE: True})
                async with conn.begin():
                    yield conn

    async def fetch_all(self, statement: Select, params: dict[str, object]) -> list[tuple]:
        """Rows of a read statement built once with bind parameters, on the fastest path.

        Keep ``statement`` alive and reuse it (build it once, at import or through
        a cache): its compiled SQL is remembered per statement object.
        """
        return await self.reader.fetch_all(statement, params)

    def data_version(self) -> int | None:
        """A number that moves whenever anyone commits, where the backend keeps one.

        Only SQLite files do; PostgreSQL and in-memory SQLite answer None.
        """
        return self._sqlite_reader.data_version() if self._sqlite_reader is not None else None

    async def dispose(self) -> None:
        await self.reader.close()
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Take transaction control away from the driver so that "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # A writer takes the write lock up front, so two processes never deadlock
        # upgrading a read transaction.
        immediate = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
