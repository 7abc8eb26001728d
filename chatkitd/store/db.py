"""The database handle: transactions, the hot reads, and a count of changes, on SQLite or PostgreSQL.

What differs between the two lives in their back ends (``chatkitd.store.sqlite``,
``chatkitd.store.postgres``), one row each in ``BACKENDS``, picked by the URL's
scheme; a test fails when a row has no test run on it. Every back end gives:

- ``write()``: a connection inside one transaction, committed when the block ends;
- ``write_direct()``: the same for the hot writes, whose statements run on the
  driver directly (``chatkitd.store.direct``);
- ``read()``: a SQLAlchemy connection for reads that are not hot;
- ``reader``: the hot reads, statements built once and run on the driver
  directly (``chatkitd.store.readers.Reader``);
- ``change_count()``: a number that moves whenever a change REST reads could
  show commits, from this process or another (None: the back end keeps none).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatkitd.store.availability import Availability
from chatkitd.store.direct import Direct
from chatkitd.store.postgres import PostgresBackend
from chatkitd.store.readers import Reader
from chatkitd.store.sqlite import SqliteBackend

if TYPE_CHECKING:
    from chatkitd.settings import Settings

DEFAULT_POOL_SIZE = 10


@dataclass(frozen=True)
class DatabaseOptions:
    """How a process uses its database (``CHATKITD_DATABASE_*`` settings; PostgreSQL only)."""

    pool_size: int = DEFAULT_POOL_SIZE  # connections a process opens, at most
    transaction_pooling: bool = False  # behind PgBouncer (or alike) in transaction mode


class Backend(Protocol):
    is_sqlite: bool
    engine: AsyncEngine
    reader: Reader

    def read(self) -> AbstractAsyncContextManager[AsyncConnection]: ...
    def write(self) -> AbstractAsyncContextManager[AsyncConnection]: ...
    def write_direct(self, single: bool = False) -> AbstractAsyncContextManager[Direct]: ...
    async def change_count(self) -> int | None: ...
    async def dispose(self) -> None: ...


BACKENDS: dict[str, Callable[[URL, DatabaseOptions, bool], Backend]] = {
    "sqlite": SqliteBackend,
    "postgresql": PostgresBackend,
}


class Database:
    def __init__(self, url: str, options: DatabaseOptions | None = None, *, echo: bool = False) -> None:
        self.url = make_url(url)
        name = self.url.get_backend_name()
        if name not in BACKENDS:
            raise ValueError(
                f"chatkitd runs on {' or '.join(BACKENDS)}, not {name!r}: check the database URL"
            )
        self.options = options or DatabaseOptions()
        self.backend = BACKENDS[name](self.url, self.options, echo)
        self.is_sqlite = self.backend.is_sqlite
        # The writer's engine (and migrations').
        self.engine = self.backend.engine
        self.reader = self.backend.reader
        # Whether the database answers; an outage ends with the next read or write that succeeds.
        self.availability = Availability()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        options = DatabaseOptions(
            pool_size=settings.database_pool_size,
            transaction_pooling=settings.database_transaction_pooling,
        )
        return cls(settings.resolved_database_url, options)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.backend.read() as conn:
            yield conn
        self.availability.answered()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed when the block ends."""
        async with self.backend.write() as conn:
            yield conn
        self.availability.answered(wrote=True)

    @asynccontextmanager
    async def write_direct(self, single: bool = False) -> AsyncIterator[Direct]:
        """One write transaction whose statements run on the driver (``chatkitd.store.direct``):
        the hot writes. ``single``: it runs one statement (on PostgreSQL, its own transaction)."""
        async with self.backend.write_direct(single) as direct:
            yield direct
        self.availability.answered(wrote=True)

    async def fetch_all(self, statement: Select, params: dict[str, object]) -> list[tuple]:
        """Rows of a read statement built once with bind parameters, on the fastest path.

        Keep ``statement`` alive and reuse it (build it once, at import or through
        a cache): its compiled SQL is remembered per statement object.
        """
        rows = await self.reader.fetch_all(statement, params)
        self.availability.answered()
        return rows

    async def change_count(self) -> int | None:
        """A number that moves whenever a change REST reads could show commits, from any process.

        It never moves back, and a call made after a commit was acknowledged
        (to anyone) answers a number that counts it. None: the back end keeps none.
        """
        return await self.backend.change_count()

    async def dispose(self) -> None:
        await self.backend.dispose()
