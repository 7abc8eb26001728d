"""aiosqlite: a connection whose calls run on the event loop's thread, not aiosqlite's worker.

aiosqlite hands every call to a worker thread through its private
``Connection._execute``. For the short indexed statements chatkitd makes, the
hand-off costs far more than the statement (about 100 µs against 5 µs idle,
and milliseconds once the GIL is contended under load). ``InlineConnection``
overrides ``_execute`` to run a call where it is made, unless
``runs_on_worker`` says it may wait (for a lock, a disk sync), which still goes
to the worker so the loop never blocks.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

# What ``InlineConnection.attempt_inline`` answers when the call must go to the worker after all.
NOT_NOW = object()


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run inline, except the ones ``runs_on_worker`` picks."""

    def runs_on_worker(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
        """Whether a call may wait and so belongs on aiosqlite's thread. Subclasses decide."""
        return False

    def attempt_inline(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """A call ``runs_on_worker`` picked, made inline if it can be without waiting: its
        result, or ``NOT_NOW`` to send it to the worker. Subclasses decide."""
        return NOT_NOW

    async def _execute(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if self.runs_on_worker(fn, args):
            if self._running and self._connection:
                result = self.attempt_inline(fn, args, kwargs)
                if result is not NOT_NOW:
                    return result
            return await super()._execute(fn, *args, **kwargs)
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


async def open_inline(path: str, kind: type[InlineConnection] = InlineConnection) -> aiosqlite.Connection:
    """Open ``path`` as a ``kind`` connection (for SQLAlchemy's ``async_creator``)."""
    # Opened by aiosqlite's thread, then used from the loop's: hence check_same_thread.
    connection = kind(functools.partial(sqlite3.connect, path, check_same_thread=False), iter_chunk_size=64)
    # A connection left open at exit must not keep the process alive.
    connection._thread.daemon = True
    return await connection


def sqlite3_connection(connection: aiosqlite.Connection) -> sqlite3.Connection:
    """The ``sqlite3`` connection under an open aiosqlite one."""
    return connection._conn
