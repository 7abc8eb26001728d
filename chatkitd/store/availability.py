"""Whether the database can answer now: the failures that mean "try again shortly", logged once.

Two kinds of failure are not the request's fault and pass on their own:

- *busy*: SQLite's write lock stayed with another writer (another process
  sharing the data dir, a long transaction) past ``LOCK_TIMEOUT``;
- *unavailable*: the database cannot be reached or refuses connections (a
  PostgreSQL restart or failover, a full pool, a network cut).

Each is answered 503 with ``Retry-After`` (the ``openai`` SDK waits and
retries), never 500. An outage is logged when it begins, in one line without a
traceback, and again when the database next answers, with how long it lasted
and how many requests were refused meanwhile: one pair of lines per outage,
however many requests arrive during it. Background work (ingestion, traces,
sweeps) that fails for it says nothing more (``Availability.absorbs``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Literal

import asyncpg
from sqlalchemy import exc as sa_exc

logger = logging.getLogger("chatkitd")

# How long a write waits for SQLite's write lock (in this process, then across processes)
# before it is answered 503.
LOCK_TIMEOUT = 5.0
RETRY_AFTER = {"busy": 1, "unavailable": 2}

Kind = Literal["busy", "unavailable"]

_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_SQLITE_UNAVAILABLE = ("unable to open database file", "disk i/o error", "database or disk is full")
_UNREACHABLE = (
    ConnectionError,  # refused, reset, aborted: what connecting to PostgreSQL raises
    asyncpg.PostgresConnectionError,  # class 08
    asyncpg.exceptions.OperatorInterventionError,  # class 57: admin shutdown, cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.InterfaceError,  # the connection is closed
    asyncpg.InternalClientError,  # a connection the server ended mid-way
    sa_exc.TimeoutError,  # no pooled connection came free in time
)


class DatabaseUnreachable(ConnectionError):
    """Connecting to the database failed at the socket in a way that is not a ``ConnectionError``:
    no route to its host (``EHOSTUNREACH``, a failover's old address), a timeout."""


class WriteLockTimeout(Exception):
    """This process's other writers kept the write lock past ``LOCK_TIMEOUT``."""


# Every error the database, its drivers and its connections raise.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.SQLAlchemyError,
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
    WriteLockTimeout,
)


def kind_of(error: BaseException) -> Kind | None:
    """``busy``, ``unavailable``, or None when ``error`` is not the database being away.

    Only the database's own errors count: SQLAlchemy's (through the driver's error
    it wraps, ``orig``), the drivers', and a refused connection raised by asyncpg.
    Another library's error caused by a refused connection (a model server's) is not one.
    """
    current: BaseException | None = error
    for _ in range(4):  # SQLAlchemy's error, its adapter's, the driver's
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return "unavailable"
        if isinstance(current, WriteLockTimeout):
            return "busy"
        if isinstance(current, sqlite3.OperationalError):
            message = str(current).lower()
            if message.startswith(_SQLITE_BUSY):
                return "busy"
            return "unavailable" if message.startswith(_SQLITE_UNAVAILABLE) else None
        if isinstance(current, _UNREACHABLE):
            return "unavailable"
        if isinstance(current, sa_exc.StatementError):
            current = current.orig
        elif current is not None and type(current).__module__.startswith("sqlalchemy"):
            current = current.__cause__  # the asyncpg adapter's error, raised from asyncpg's
        else:
            return None
    return None


class Availability:
    """The state of one process's database: up, or away since when (for the log, not the answers)."""

    def __init__(self) -> None:
        self._away_since: float | None = None
        self._kind: Kind = "unavailable"
        self._refused = 0

    def refused(self, kind: Kind, error: BaseException, *, request: bool = True) -> int:
        """Note a request refused because the database is away (``request=False``: background
        work that failed for it); the seconds to retry after."""
        self._refused += request
        if self._away_since is None:
            self._away_since = time.monotonic()
            self._kind = kind
            what = "busy: its write lock is held elsewhere" if kind == "busy" else "unavailable"
            logger.warning(
                "database %s (%s: %s); answering 503 until it is back",
                what,
                type(error).__name__,
                str(error).splitlines()[0][:200] if str(error) else "",
            )
        return RETRY_AFTER[kind]

    def absorbs(self, error: BaseException) -> bool:
        """Whether background work's ``error`` is the database being away: then it is noted with
        the outage (logged once for all of it) and needs no log line, nor traceback, of its own."""
        kind = kind_of(error)
        if kind is None:
            return False
        self.refused(kind, error, request=False)
        return True

    def answered(self, *, wrote: bool = False) -> None:
        """The database answered (``wrote``: a write committed): ends an outage, if there was one.
        Cheap when there was none. Reads go on while the write lock is busy, so only a write ends that."""
        if self._away_since is None or (self._kind == "busy" and not wrote):
            return
        lasted = time.monotonic() - self._away_since
        refused, self._away_since, self._refused = self._refused, None, 0
        logger.warning("database available again after %.1fs; %d requests were answered 503", lasted, refused)


async def acquire_within(lock: asyncio.Lock, timeout: float = LOCK_TIMEOUT) -> None:
    """Take ``lock``, or raise ``WriteLockTimeout`` after ``timeout`` seconds."""
    if not lock.locked():
        await lock.acquire()  # free: taken at once (no timer, no task)
        return
    try:
        await asyncio.wait_for(lock.acquire(), timeout)
    except TimeoutError:
        raise WriteLockTimeout(f"the write lock stayed busy for {timeout:g}s") from None
