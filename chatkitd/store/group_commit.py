"""Group commit: concurrent write transactions share one database transaction and one commit.

SQLite has one writer at a time, and each transaction pays for taking the write
lock (``BEGIN IMMEDIATE``) and for its commit, both on aiosqlite's thread: under
load those hand-offs, not the statements, are what a write costs. So writes
that arrive while one runs or commits wait (as they always did) and then run
together, one after another, in one transaction, each in its own savepoint,
and one commit ends them all.

What each caller sees is unchanged:

- its block runs alone on the connection, and sees every earlier write;
- if its block raises, only its own statements are undone (rolled back to its
  savepoint) and the error is its own;
- ``write()`` returns only once the commit holding its statements succeeded,
  so nothing acknowledged can be lost; if that commit fails, every caller in it
  gets the error;
- a caller cancelled while it waits for the commit is not waited for by anyone
  else, and its statements are committed all the same (as a cancelled commit
  always was: the commit ran on the worker thread).

The commit is queued behind the writers already waiting when a transaction
opens, so a transaction holds the writers of one "wave" and a writer arriving
later waits for the next (one commit of latency at most). ``MAX_MEMBERS``
bounds how many blocks one transaction holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction

MAX_MEMBERS = 256
_SAVEPOINT = "SAVEPOINT chatkitd_write"
_RELEASE = "RELEASE chatkitd_write"
_ROLLBACK_TO = "ROLLBACK TO chatkitd_write"


def _future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


class Savepoints(Protocol):
    """The driver's own connection under ``Transaction.conn`` (``sqlite3.Connection``): a
    savepoint is a statement of a few microseconds there, against a hundred through
    SQLAlchemy's nested transactions, and its effects are the same."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, /) -> object: ...


@dataclass
class Transaction:
    """An open transaction that writers join; ``close`` gives the connection back."""

    conn: AsyncConnection
    transaction: AsyncTransaction
    close: Callable[[], Awaitable[None]]
    driver: Savepoints
    committed: asyncio.Future[None] = field(default_factory=_future)
    members: int = 0

    def __post_init__(self) -> None:
        # A commit failure nobody is left to hear about is not an unretrieved-exception warning.
        self.committed.add_done_callback(lambda f: f.cancelled() or f.exception())


class GroupCommit:
    """``write()`` as in ``Database.write``, with concurrent writes sharing transactions."""

    def __init__(
        self,
        begin: Callable[[], Awaitable[Transaction]],
        acquire: Callable[[asyncio.Lock], Awaitable[object]] = asyncio.Lock.acquire,
        committed: Callable[[], None] | None = None,
    ) -> None:
        """``begin`` opens a transaction; a writer waits for its turn with ``acquire(lock)``
        (which may give up, raising); a commit always waits for its turn, and then calls
        ``committed()``."""
        self._begin = begin
        self._acquire = acquire
        self._committed = committed
        self._lock = asyncio.Lock()
        self._open: Transaction | None = None
        self.commits = 0  # transactions committed (for tests and benchmarks)
        self.writes = 0  # blocks committed

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Transaction]:
        """The open transaction, for one block: its ``conn`` (SQLAlchemy's) or ``driver``."""
        await self._acquire(self._lock)
        try:
            joined = self._open or await self._start()
            joined.driver.execute(_SAVEPOINT)
            try:
                yield joined
            except BaseException:
                await self._undo(joined)
                raise
            joined.driver.execute(_RELEASE)
            joined.members += 1
            if joined.members >= MAX_MEMBERS:
                self._open = None  # full: later writers start the next one
        finally:
            self._lock.release()
        # Shielded: a caller that is cancelled here must not cancel the others' commit.
        await asyncio.shield(joined.committed)

    async def _start(self) -> Transaction:
        opened = await self._begin()
        self._open = opened
        # Queued behind the writers already waiting: they join this transaction first.
        task = asyncio.create_task(self._commit(opened))
        _committing.add(task)
        task.add_done_callback(_committing.discard)
        return opened

    async def _commit(self, ending: Transaction) -> None:
        async with self._lock:
            if self._open is ending:
                self._open = None
            if ending.committed.done():  # failed already, and rolled back
                return
            try:
                await ending.transaction.commit()
            except BaseException as error:
                # Its writers raise it; the task itself ends quietly.
                ending.committed.set_exception(error)
                await _quietly(ending.transaction.rollback())
            else:
                self.commits += 1
                self.writes += ending.members
                ending.committed.set_result(None)
                if self._committed is not None:
                    self._committed()
            finally:
                await _quietly(ending.close())

    async def _undo(self, joined: Transaction) -> None:
        """Undo one block's statements; if the database ended the whole transaction, fail it."""
        try:
            if joined.driver.in_transaction:  # else the database rolled it all back (some errors do)
                joined.driver.execute(_ROLLBACK_TO)
                joined.driver.execute(_RELEASE)
                return
            gone: BaseException = RuntimeError("the database rolled the transaction back")
        except BaseException as error:  # noqa: BLE001 - handed to the transaction's writers
            gone = error
        # Writers already in it must not be told their writes were committed.
        if self._open is joined:
            self._open = None
        if not joined.committed.done():
            joined.committed.set_exception(gone)
        await _quietly(joined.transaction.rollback())
        await _quietly(joined.close())


# Strong references to commits under way (a task nobody holds may be collected).
_committing: set[asyncio.Task[None]] = set()


async def _quietly(step: Awaitable[object]) -> None:
    try:
        await step
    except Exception:  # noqa: BLE001 - cleanup after a failure already reported
        pass
