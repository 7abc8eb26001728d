"""Session records: what a client secret was issued for, and its per-minute request log."""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import Boolean, Float, bindparam, column, delete, func, insert, select, true, update

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
# Admission's statements, built once and run on the driver (``chatkitd.store.direct``).
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
# PostgreSQL: the same steps in one function (migration 0013), called in the statement that
# finds the session by its secret: one round trip. An unknown secret calls nothing, and an
# inactive session takes no lock.
_S = tables.sessions
_ADMISSION = (
    func.chatkitd_admit(
        _S.c.id,
        bindparam("now", type_=Float),
        bindparam("window", type_=Float),
        bindparam("prune", type_=Boolean),
    )
    .table_valued(column("active", Boolean), column("admitted", Boolean), column("oldest", Float))
    .lateral("admission")
)
_FIND_AND_ADMIT = (
    select(*_S.c, _ADMISSION.c.active, _ADMISSION.c.admitted, _ADMISSION.c.oldest)
    .select_from(_S.join(_ADMISSION, true()))
    .where(_S.c.secret_digest == bindparam("digest"))
)


async def admit_request(db: Database, secret_digest: str) -> Admission:
    """Find the secret's session and, if it is active, count this request against its limit.

    The count happens in one write transaction holding the session (SQLite's
    write lock, or the session's row locked on PostgreSQL), so that concurrent
    requests in several server processes see each other and together never
    exceed the limit.
    """
    now = clock.unix()
    # Rows out of the window no longer count; clearing them now and then (about one
    # request in PRUNE_EVERY), not on every request, saves a statement per request.
    prune = random.random() < 1 / PRUNE_EVERY
    if not db.is_sqlite:
        params = {"digest": secret_digest, "now": now, "window": RATE_WINDOW_SECONDS, "prune": prune}
        async with db.write_direct(single=True) as direct:
            rows = await direct.fetch(_FIND_AND_ADMIT, params)
        if not rows:
            return Admission(None)
        *columns, active, admitted, oldest = rows[0]
        record = _record(tuple(columns))
        if record.status(now) != "active":
            return Admission(record)
    else:
        # A read first: an unknown, expired or cancelled secret must not take the
        # writer's lock (SQLite has one), or a flood of bogus tokens would queue
        # ahead of real users. The status is checked again under the lock below.
        rows = await db.fetch_all(_BY_DIGEST, {"digest": secret_digest})
        if not rows:
            return Admission(None)
        record = _record(rows[0])
        if record.status(now) != "active":
            return Admission(record)
        window = {"session_id": record.id, "window_start": now - RATE_WINDOW_SECONDS}
        async with db.write_direct() as direct:
            current = await direct.fetch(_BY_DIGEST, {"digest": secret_digest})
            active = bool(current) and _record(current[0]).status(now) == "active"
            admitted, oldest = False, None
            if active:
                room = {**window, "now": now, "rate_limit": record.rate_limit}
                admitted = await direct.execute(_LOG_IF_ROOM, room) > 0
                if not admitted:
                    [(oldest,)] = await direct.fetch(_OLDEST_IN_WINDOW, window)
                elif prune:
                    await direct.execute(_OUT_OF_WINDOW, window)
    if not active:
        # Cancelled or expired meanwhile, or gone: as it is now.
        rows = await db.fetch_all(_BY_DIGEST, {"digest": secret_digest})
        return Admission(_record(rows[0]) if rows else None)
    if not admitted:
        wait = (oldest + RATE_WINDOW_SECONDS - now) if oldest is not None else RATE_WINDOW_SECONDS
        return Admission(record, retry_after=max(1, math.ceil(wait)))
    return Admission(record)


def _record(row: tuple) -> SessionRecord:
    return SessionRecord.from_row(dict(zip(_BY_DIGEST.selected_columns.keys(), row, strict=True)))
