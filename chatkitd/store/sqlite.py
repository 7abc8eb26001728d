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

import asyncio
import functools
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from chatkitd.compat.aiosqlite import NOT_NOW, InlineConnection, open_inline, sqlite3_connection
from chatkitd.store import tables
from chatkitd.store.availability import LOCK_TIMEOUT, acquire_within
from chatkitd.store.direct import Compiled, Direct, SqliteDirect
from chatkitd.store.group_commit import GroupCommit, Transaction
from chatkitd.store.readers import EngineReader, Reader, SqliteReader

logger = logging.getLogger("chatkitd")
_WRITE = "chatkitd_write"
_BUSY_TIMEOUT = f"PRAGMA busy_timeout={int(LOCK_TIMEOUT * 1000)}"
# Readers' connections: a fixed pool, since opening one goes through aiosqlite's
# thread and suspends, so overflow connections opened and closed under load would churn.
READ_CONNECTIONS = 20


class _WriterConnection(InlineConnection):
    """The writer's connection: inline, except for the calls that may wait.

    A write transaction makes a dozen calls (cursors, statements, results), and
    on aiosqlite's thread each costs a hand-off. Only a few kinds can take long:
    taking the write lock (``BEGIN IMMEDIATE`` waits, up to the busy timeout,
    for another process's writer), rolling back, deletes (a thread's delete
    removes all its items) and bulk statements (``BULK_PARAMETERS``: a file's
    chunks). Those still go to the thread, so the loop never waits on them;
    everything between them runs inline, the commit too: in WAL
    mode with ``synchronous=NORMAL`` it appends the transaction to the WAL and
    syncs nothing, and this connection never checkpoints (``Checkpoints`` does,
    on a thread of its own).
    """

    def runs_on_worker(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
        return _may_wait(fn, args)

    def attempt_inline(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``BEGIN IMMEDIATE`` is tried inline, waiting for nothing: it only waits when
        another process is writing, and then it goes to the worker, to wait there."""
        if not (args and isinstance(args[0], str) and args[0].startswith("BEGIN")):
            return NOT_NOW
        target = getattr(fn, "__self__", None)
        connection = target if isinstance(target, sqlite3.Connection) else getattr(target, "connection", None)
        if not isinstance(connection, sqlite3.Connection):
            return NOT_NOW
        connection.execute("PRAGMA busy_timeout=0")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if str(error).lower().startswith(("database is locked", "database is busy")):
                return NOT_NOW
            raise
        finally:
            connection.execute(_BUSY_TIMEOUT)


_WAITING_STATEMENTS = ("BEGIN", "ROLLBACK", "DELETE")
# A statement carrying more parameters (or ``executemany`` rows) than this is bulk work (a
# file's chunks, with their full-text index): it runs on the worker, as a long delete does.
BULK_PARAMETERS = 256


def _may_wait(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    name = getattr(fn, "__name__", "")
    if name in ("rollback", "close"):
        connection = getattr(fn, "__self__", None)
        if not isinstance(connection, sqlite3.Connection):
            return False  # a cursor's close
        # Ending no transaction does nothing: the pool's rollback on every return.
        return name == "close" or connection.in_transaction
    if name == "executescript":
        return True
    if name in ("execute", "executemany") and args and isinstance(args[0], str):
        if len(args) > 1 and isinstance(args[1], (list, tuple)) and len(args[1]) > BULK_PARAMETERS:
            return True
        words = args[0].split(None, 1)
        return bool(words) and words[0].upper() in _WAITING_STATEMENTS
    return False


CHECKPOINT_EVERY = 100  # commits


class Checkpoints:
    """Copies the WAL back into the database file now and then, on a thread of its own.

    The writer's connection never checkpoints (``wal_autocheckpoint=0``): a
    checkpoint syncs the disk, and that connection commits on the event loop.
    Every ``CHECKPOINT_EVERY`` commits, a passive checkpoint (which waits for
    no reader or writer) runs here instead, so the WAL stays small.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._commits = 0
        self._connection: sqlite3.Connection | None = None
        self._running: asyncio.Task[None] | None = None

    def committed(self) -> None:
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY and self._running is None:
            self._commits = 0
            self._running = asyncio.create_task(asyncio.to_thread(self._checkpoint))
            self._running.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running = None
        if not task.cancelled() and task.exception() is not None:
            logger.warning("WAL checkpoint failed: %s", task.exception())

    def _checkpoint(self) -> None:
        if self._connection is None:
            self._connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def close(self) -> None:
        if self._running is not None:
            await asyncio.wait([self._running])
        if self._connection is not None:
            self._connection.close()
            self._connection = None


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
        _configure(self.engine, writer=True)
        # Bounded waits: for this process's writers here, for another process's in BEGIN
        # IMMEDIATE (the busy timeout); past either, a 503 (``chatkitd.store.availability``).
        self._checkpoints = Checkpoints(path) if path is not None else None
        committed = self._checkpoints.committed if self._checkpoints is not None else None
        self._writes = GroupCommit(self._begin, acquire_within, committed)
        # The writer's connection (SQLAlchemy's, and the sqlite3 one under it), opened on first use.
        self._writer: tuple[AsyncConnection, sqlite3.Connection] | None = None
        self._compiled = Compiled(self.engine.dialect)
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

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One writer at a time; concurrent writes share a transaction (``group_commit``)."""
        async with self._writes.write() as transaction:
            yield transaction.conn

    @asynccontextmanager
    async def write_direct(self, single: bool = False) -> AsyncIterator[Direct]:
        """As ``write()``, its statements run on the transaction's ``sqlite3`` connection (``direct``)."""
        async with self._writes.write() as transaction:
            yield SqliteDirect(cast(sqlite3.Connection, transaction.driver), self._compiled)

    async def _begin(self) -> Transaction:
        """A transaction on the writer's connection, which stays open from one to the next:
        checking one out of the pool and back for each cost more than a short transaction."""
        if self._writer is None:
            conn = await self.engine.connect()
            try:
                await conn.execution_options(**{_WRITE: True})
                driver = (await conn.get_raw_connection()).driver_connection
            except BaseException:
                await conn.close()
                raise
            assert isinstance(driver, aiosqlite.Connection)
            self._writer = (conn, sqlite3_connection(driver))
        conn, raw = self._writer
        try:
            transaction = await conn.begin()
        except BaseException:
            await self._drop_writer()
            raise
        return Transaction(conn, transaction, self._after_transaction, raw)

    async def _after_transaction(self) -> None:
        """Keep the writer's connection, unless its transaction did not end cleanly."""
        if self._writer is not None:
            conn, raw = self._writer
            # A failed COMMIT (a deferred foreign key) can leave SQLite's transaction open
            # beneath a SQLAlchemy one that has ended: closing gives it back rolled back.
            if conn.invalidated or conn.in_transaction() or raw.in_transaction:
                await self._drop_writer()

    async def _drop_writer(self) -> None:
        if self._writer is not None:
            conn, _ = self._writer
            self._writer = None
            await conn.close()

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
        await self._drop_writer()
        await self.reader.close()
        if self._checkpoints is not None:
            await self._checkpoints.close()
        await self.engine.dispose()
        if self._read_engine is not self.engine:
            await self._read_engine.dispose()


def _configure(engine: AsyncEngine, writer: bool = False) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Take transaction control away from the driver so that "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(_BUSY_TIMEOUT)
        if writer:
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # Checkpoints does it, off the loop
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # A writer takes the write lock up front, so two processes never deadlock
        # upgrading a read transaction.
        immediate = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
