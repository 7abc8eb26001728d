"""Session records: what a client secret was issued for, and its per-minute request log."""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, delete, func, insert, select, update

from chatkitd import clock
from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.store.paging import Window, page_on

RATE_WINDOW_SECONDS = 60.0
PRUNE_EVERY = 16
# Built once; each row is its parameters (``.values(**row)`` would rebuild it per call).
_INSERT_SESSION = insert(tables.sessions)


@dataclass(frozen=True)
class SessionRecord:
    id: str
    project_id: str
    user: str
    secret_digest: str
    workflow_id: str
    workflow_version: str | None
    resolved_version: str | None
    state_variables: dict[str, Any] | None
    tracing_enabled: bool
    titling_enabled: bool
    upload_enabled: bool
    max_files: int
    max_file_size: int
    history_enabled: bool
    recent_threads: int | None
    rate_limit: int
    created_at: float
    expires_at: int
    cancelled_at: float | None

    def status(self, now: float | None = None) -> Literal["active", "expired", "cancelled"]:
        if self.cancelled_at is not None:
            return "cancelled"
        if (clock.unix() if now is None else now) >= self.expires_at:
            return "expired"
        return "active"

    @classmethod
    def from_row(cls, row: Any) -> SessionRecord:
        values = dict(row)
        values.pop("seq", None)
        raw_state = values.get("state_variables")
        values["state_variables"] = json.loads(raw_state) if raw_state is not None else None
        return cls(**values)

    def to_row(self) -> dict[str, Any]:
        values = asdict(self)
        if self.state_variables is not None:
            values["state_variables"] = json.dumps(self.state_variables)
        return values


async def insert_session(db: Database, record: SessionRecord) -> None:
    async with db.write() as conn:
        await conn.execute(_INSERT_SESSION, record.to_row())


async def get_session(db: Database, session_id: str, project_id: str) -> SessionRecord | None:
    s = tables.sessions
    async with db.read() as conn:
        row = (
            (await conn.execute(select(s).where(s.c.id == session_id, s.c.project_id == project_id)))
            .mappings()
            .first()
        )
    return SessionRecord.from_row(row) if row else None


async def cancel_session(db: Database, session_id: str, project_id: str) -> SessionRecord | None:
    """Cancel an active session once; later calls leave the first cancellation in place.

    A session that has already expired is left as it is and keeps reading
    ``expired``: its secret is unusable either way, and its record stays true.
    """
    s = tables.sessions
    now = clock.unix()
    async with db.write() as conn:
        await conn.execute(
            update(s)
            .where(
                s.c.id == session_id,
                s.c.project_id == project_id,
                s.c.cancelled_at.is_(None),
                s.c.expires_at > now,
            )
            .values(cancelled_at=now)
        )
        row = (
            (await conn.execute(select(s).where(s.c.id == session_id, s.c.project_id == project_id)))
            .mappings()
            .first()
        )
    return SessionRecord.from_row(row) if row else None


async def list_sessions(
    db: Database, project_id: str, limit: int = 50, user: str | None = None, after: str | None = None
) -> tuple[list[SessionRecord], bool]:
    """The project's sessions, newest first, past ``after`` (a session id); and whether more follow."""
    s = tables.sessions
    scope = [s.c.project_id == project_id]
    query = select(s).where(*scope)
    if user is not None:
        query = query.where(s.c.user == user)
    async with db.read() as conn:
        rows, has_more = await page_on(conn, query, s, Window(limit, "desc", after), scope)
    return [SessionRecord.from_row(row._mapping) for row in rows], has_more


@dataclass(frozen=True)
class Admission:
    """The outcome of presenting a client secret for one request."""

    session: SessionRecord | None
    retry_after: int | None = None  # set when the rate limit refused the request


_BY_DIGEST = select(tables.sessions).where(tables.sessions.c.secret_digest == bindparam("digest"))
# Admission's statements, built once (as a statement built per call, each would cost its
# compilation's cache lookup again). Under the lock: the session row, locked on PostgreSQL.
_LOCKED = {"sqlite": _BY_DIGEST, "postgresql": _BY_DIGEST.with_for_update()}
_log = tables.session_requests
_IN_WINDOW = (_log.c.session_id == bindparam("session_id")) & (_log.c.at > bindparam("window_start"))
# Counting and logging in one statement: the row goes in only while the window has room.
_LOG_IF_ROOM = insert(_log).from_select(
    ["session_id", "at"],
    select(
        bindparam("session_id", type_=_log.c.session_id.type), bindparam("now", type_=_log.c.at.type)
    ).where(select(func.count()).where(_IN_WINDOW).scalar_subquery() < bindparam("rate_limit")),
)
_OLDEST_IN_WINDOW = select(func.min(_log.c.at)).where(_IN_WINDOW)
_OUT_OF_WINDOW = delete(_log).where(
    _log.c.session_id == bindparam("session_id"), _log.c.at <= bindparam("window_start")
)


async def admit_request(db: Database, secret_digest: str) -> Admission:
    """Find the secret's session and, if it is active, count this request against its limit.

    It all happens in one write transaction, with the session row locked on
    PostgreSQL, so that concurrent requests in several server processes see
    each other and together never exceed the limit.
    """
    now = clock.unix()
    # A read first: an unknown, expired or cancelled secret must not take the
    # writer's lock (SQLite has one), or a flood of bogus tokens would queue
    # ahead of real users. The status is checked again under the lock below.
    rows = await db.fetch_all(_BY_DIGEST, {"digest": secret_digest})
    if not rows:
        return Admission(None)
    found = SessionRecord.from_row(dict(zip(_BY_DIGEST.selected_columns.keys(), rows[0], strict=True)))
    if found.status(now) != "active":
        return Admission(found)
    async with db.write() as conn:
        if not db.is_sqlite:
            # The request log needs to be visible to other processes at once, not
            # durable: a crash may forget a few counted requests, which is
            # harmless, and the commit skips waiting for the WAL flush.
            await conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        row = (await conn.execute(_LOCKED[conn.dialect.name], {"digest": secret_digest})).mappings().first()
        if row is None:
            return Admission(None)
        record = SessionRecord.from_row(row)
        if record.status(now) != "active":
            return Admission(record)
        # The transaction (session row locked on PostgreSQL, BEGIN IMMEDIATE on
        # SQLite) keeps the count exact across processes.
        window = {"session_id": record.id, "window_start": now - RATE_WINDOW_SECONDS}
        logged = await conn.execute(_LOG_IF_ROOM, {**window, "now": now, "rate_limit": record.rate_limit})
        if logged.rowcount == 0:
            oldest = await conn.scalar(_OLDEST_IN_WINDOW, window)
            wait = (oldest + RATE_WINDOW_SECONDS - now) if oldest is not None else RATE_WINDOW_SECONDS
            return Admission(record, retry_after=max(1, math.ceil(wait)))
        if random.random() < 1 / PRUNE_EVERY:
            # Rows out of the window no longer count; clearing them now and then
            # (about one request in PRUNE_EVERY), not on every request, saves a
            # statement per request.
            await conn.execute(_OUT_OF_WINDOW, window)
    return Admission(record)
