"""The database handle: one async engine, with read and write connections.

SQLite runs in WAL mode so reads stay concurrent, and writes are serialized:
in-process by a lock, across processes by ``BEGIN IMMEDIATE`` and a busy
timeout. PostgreSQL needs neither.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
from sqlalchemy import Select, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

_WRITE = "chatkitd_write"


class _InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run inline, on the event loop's thread.

    aiosqlite hands every call to a worker thread. For the short indexed reads
    chatkitd makes, the hand-off costs far more than the query (about 100 µs
    against 5 µs idle, and milliseconds once the GIL is contended under load).
    Only reads use it: in WAL mode they never wait for a lock, while a write may
    wait on another process's (busy_timeout) and must not stall the loop.
    """

    async def _execute(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def _inline_sqlite_creator(path: str):  # noqa: ANN202
    async def create() -> aiosqlite.Connection:
        # Opened by aiosqlite's thread, then used from the loop's: hence check_same_thread.
        connection = _InlineConnection(
            functools.partial(sqlite3.connect, path, check_same_thread=False), iter_chunk_size=64
        )
        connection._thread.daemon = True
        return await connection

    return create


class _SqliteReader:
    """Runs prepared read statements straight on one sqlite3 connection, inline.

    For the hottest reads (REST list pages) even the inline aiosqlite path spends
    most of its time in SQLAlchemy's async execution machinery. Here a statement
    built once with bind parameters is compiled once to SQL, and each call is a
    plain ``sqlite3`` execute. There is no ``await`` between query and result, so
    one connection serves every caller on the loop.
    """

    def __init__(self, path: str, dialect) -> None:  # noqa: ANN001
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._dialect = dialect
        self._compiled: dict[object, tuple[str, tuple[str, ...], dict[str, object]]] = {}

    def _connect(self) -> sqlite3.Connection:
        # Opened on first use, after migrations have put the file in WAL mode.
        connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA busy_timeout=10000")
        connection.execute("PRAGMA query_only=ON")
        self._connection = connection
        return connection

    def fetch_all(self, statement: Select, params: dict[str, object]) -> list[tuple]:
        compiled = self._compiled.get(statement)
        if compiled is None:
            sql = statement.compile(dialect=self._dialect)
            # Binds SQLAlchemy added itself (such as OFFSET 0) carry their own values.
            defaults = {name: bind.value for name, bind in sql.binds.items()}
            compiled = self._compiled[statement] = (str(sql), tuple(sql.positiontup or ()), defaults)
        sql_text, names, defaults = compiled
        values = tuple(params[name] if name in params else defaults[name] for name in names)
        connection = self._connection or self._connect()
        return connection.execute(sql_text, values).fetchall()

    def data_version(self) -> int:
        """SQLite's count of commits by other connections, which is all of them."""
        connection = self._connection or self._connect()
        return connection.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


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
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self._read_engine = self.engine
        self._reader: _SqliteReader | None = None
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
            self._reader = _SqliteReader(sqlite_file, self.engine.dialect)

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
        a cache): on SQLite its compiled SQL is remembered per statement object.
        """
        if self._reader is not None:
            return self._reader.fetch_all(statement, params)
        async with self.read() as conn:
            return [tuple(row) for row in (await conn.execute(statement, params)).all()]

    def data_version(self) -> int | None:
        """A number that moves whenever anyone commits, where the backend keeps one.

        Only SQLite files do; PostgreSQL and in-memory SQLite answer None.
        """
        return self._reader.data_version() if self._reader is not None else None

    async def dispose(self) -> None:
        if self._reader is not None:
            self._reader.close()
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
