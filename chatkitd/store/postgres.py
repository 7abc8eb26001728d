"""PostgreSQL as chatkitd's database: a small, fixed number of connections, and a change counter.

Connections. A process opens at most ``DatabaseOptions.pool_size`` of them:
about a third (at least one) for SQLAlchemy's transactions (its pool, no
overflow), the rest for the hot statements, the reads and the chat's writes
(a raw asyncpg pool: ``chatkitd.store.readers``, ``chatkitd.store.direct``).
Behind a pooler in transaction mode (PgBouncer's
``pool_mode = transaction``), consecutive transactions of one client connection
may run on different server connections, so a statement prepared in one is
missing in the next: with ``transaction_pooling`` no statement is kept prepared
(asyncpg's and SQLAlchemy's statement caches off), at the price of one more
round trip per statement.

The change counter. REST reads are replayed from memory until something they
could show changes (``chatkitd.http.response_cache``). On PostgreSQL, every
statement that writes ``threads``, ``items`` or ``api_keys`` adds one to a row
of ``change_counters`` in its own transaction (a trigger, migration 0007), so
the counters' sum, read in one statement, grows with every such commit the
statement sees and never shrinks. ``ChangeCount`` reads it for many requests
at once: a request waits for a read that *starts after it arrived*, so a
write acknowledged before the request (by any process) is always counted.
Rows are spread over 64 counters by server process, so concurrent writers
rarely wait on one another's counter. Chat admissions (``session_requests``)
and session records are not counted: they change nothing REST reads return.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from chatkitd.store import tables
from chatkitd.store.direct import Compiled, Direct, PostgresDirect
from chatkitd.store.readers import PostgresReader, Reader


def split_pool(size: int) -> tuple[int, int]:
    """``(transactions, hot)``: how a process's ``size`` connections are shared out between
    SQLAlchemy's transactions and the hot statements (reads, and the chat's writes)."""
    transactions = max(1, size // 3)
    return transactions, max(1, size - transactions)


class ChangeCount:
    """One read of a number for all the callers waiting, each served by a read begun after it asked.

    Callers that arrive while a read is under way wait for the next one, which
    starts when that one ends; so however many ask at once, at most one read is
    in flight and each caller's answer is at least as new as its question.
    """

    def __init__(self, read: Callable[[], Awaitable[int]]) -> None:
        self._read = read
        self._waiting: list[asyncio.Future[int | None]] = []
        self._reading: asyncio.Task[None] | None = None

    async def __call__(self) -> int | None:
        """The number, or None when it could not be read (the caller then reads the data itself)."""
        waiter: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        if self._reading is None:
            self._reading = asyncio.create_task(self._serve())
        return await waiter

    async def _serve(self) -> None:
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, []
                try:
                    value: int | None = await self._read()
                except Exception:  # noqa: BLE001 - no number means no replay, never an error
                    value = None
                for waiter in waiting:
                    if not waiter.done():  # a caller that gave up
                        waiter.set_result(value)
        finally:
            self._reading = None


class PostgresBackend:
    is_sqlite = False

    def __init__(self, url: URL, options: Any, echo: bool = False) -> None:
        transactions, hot = split_pool(options.pool_size)
        connect_args: dict[str, Any] = {}
        if options.transaction_pooling:
            # No statement outlives its transaction: asyncpg then sends them unnamed.
            connect_args = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
        self.engine: AsyncEngine = create_async_engine(
            url,
            echo=echo,
            pool_size=transactions,
            max_overflow=0,
            pool_pre_ping=True,
            connect_args=connect_args,
        )
        self._hot = PostgresReader(
            url, self.engine.dialect, hot, prepared_statements=not options.transaction_pooling
        )
        self.reader: Reader = self._hot
        self._compiled = Compiled(self.engine.dialect)
        self.change_count = ChangeCount(self._changes)

    async def _changes(self) -> int:
        [(changes,)] = await self.reader.fetch_all(tables.CHANGES, {})
        return changes

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def write_direct(self, single: bool = False) -> AsyncIterator[Direct]:
        """A write on a connection of the hot statements' pool (``chatkitd.store.direct``):
        ``single``, one statement, its own transaction; else one ``BEGIN`` ... ``COMMIT``."""
        async with self._hot.connection() as connection:
            if single:
                yield PostgresDirect(connection, self._compiled, single=True)
                return
            async with connection.transaction():
                yield PostgresDirect(connection, self._compiled, single=False)

    async def dispose(self) -> None:
        await self.reader.close()
        await self.engine.dispose()
