"""SQLite as chatkitd's database: WAL, one writer at a time, reads and statements on the event loop.

SQLite runs in WAL mode so reads stay concurrent, and writes are serialized:
in-process by a lock, across processes by ``BEGIN IMMEDIATE`` and a busy
timeout. Its reads, and the statements of its writes, run on the event loop's
thread (``chatkitd.compat.aiosqlite``); whatever may wait (for a lock, a disk
sync) runs on aiosqlite's. The response cache learns of changes from any
process through ``PRAGMA data_version`` (has anything committed?) and, only when
it moved, the change counter (did a commit change what REST reads show?).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from chatkitd.compat.aiosqlite import InlineConnection, open_inline, sqlite3_connection
from chatkitd.store import tables
from chatkitd.store.availability import LOCK_TIMEOUT, acquire_within
from chatkitd.store.group_commit import GroupCommit, Transaction
from chatkitd.store.readers import EngineReader, Reader, SqliteReader

_WRITE = "chatkitd_write"
# Readers' connections: a fixed pool, since opening one goes through aiosqlite's
# thread and suspends, so overflow connections opened and closed under load would churn.
READ_CONNECTIONS = 20


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


def _creator(path: str, kind: type[InlineConnection]) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    return functools.partial(open_inline, path, kind)


class SqliteBackend:
    is_sqlite = True

    def __init__(self, url: URL, options: Any, echo: bool = False) -> None:
        database = url.database
        # The SQLite file, when there is one (not an in-memory database).
        path = database if database and database != ":memory:" else None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        creator = {"async_creator": _creator(path, _WriterConnection)} if path is not None else {}
        # The writer (and migrations): one write at a time, the lock below.
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, **creator)
        _configure(self.engine)
        # Bounded waits: for this process's writers here, for another process's in BEGIN
        # IMMEDIATE (the busy timeout); past either, a 503 (``chatkitd.store.availability``).
        self._writes = GroupCommit(self._begin, acquire_within)
        self._read_engine = self.engine
        self._sqlite_reader: SqliteReader | None = None
        if path is not None:
            self._read_engine = create_async_engine(
                url,
                echo=echo,
                async_creator=_creator(path, InlineConnection),
                pool_size=READ_CONNECTIONS,
                max_overflow=0,
            )
            _configure(self._read_engine)
            self._sqlite_reader = SqliteReader(path, self.engine.dialect)
        self.reader: Reader = self._sqlite_reader or EngineReader(self._read_engine)
        self._data_version: int | None = None  # when the counter below was read
        self._changes = 0

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._read_engine.connect() as conn:
            yield conn

    def write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One writer at a time; concurrent writes share a transaction (``group_commit``)."""
        return self._writes.write()

    async def _begin(self) -> Transaction:
        conn = await self.engine.connect()
        try:
            await conn.execution_options(**{_WRITE: True})
            transaction = await conn.begin()
            driver = (await conn.get_raw_connection()).driver_connection
        except BaseException:
            await conn.close()
            raise
        assert isinstance(driver, aiosqlite.Connection)
        return Transaction(conn, transaction, conn.close, sqlite3_connection(driver))

    async def change_count(self) -> int | None:
        """The change counter (migration 0010), read again only after something committed.

        ``PRAGMA data_version`` moves with every commit by another connection,
        chat admissions included; the counter only with writes to threads, items
        and keys. It is read after the version, so a commit between the two is
        counted now or, the version having moved, on the next call. None in memory.
        """
        reader = self._sqlite_reader
        if reader is None:
            return None
        version = reader.data_version()
        if version != self._data_version:
            [(self._changes,)] = await reader.fetch_all(tables.CHANGES, {})
            self._data_version = version
        return self._changes

    async def dispose(self) -> None:
        await self.reader.close()
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()


def _configure(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Take transaction control away from the driver so that "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(LOCK_TIMEOUT * 1000)}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # A writer takes the write lock up front, so two processes never deadlock
        # upgrading a read transaction.
        immediate = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
