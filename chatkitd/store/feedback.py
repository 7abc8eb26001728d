"""Reading the feedback users gave (``items.feedback``), for the admin console."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.store.paging import UnknownCursor


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    thread_id: str
    item_id: str
    user: str
    kind: str
    created_at: float


FEEDBACK_PREFIX = "fb_"


async def list_feedback(
    db: Database, project_id: str, thread_id: str | None = None, limit: int = 50, after: str | None = None
) -> tuple[list[FeedbackRecord], bool]:
    """The project's most recent feedback first, optionally for one thread, past ``after`` (an
    ``fb_<seq>`` id, as ``FeedbackRecord.id`` is shown); and whether more follow.

    Feedback rows have no id column of their own, so the cursor is their ``seq``: the same
    keyset rule as ``paging.keyset``, read from the id."""
    f = tables.feedback
    query = select(f).where(f.c.project_id == project_id)
    if thread_id is not None:
        query = query.where(f.c.thread_id == thread_id)
    async with db.read() as conn:
        if after is not None:
            digits = after.removeprefix(FEEDBACK_PREFIX)
            seq = int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 19 else None
            known = seq is not None and await conn.scalar(
                select(f.c.seq).where(f.c.seq == seq, f.c.project_id == project_id)
            )
            if not known:
                raise UnknownCursor("after", after)
            query = query.where(f.c.seq < seq)
        rows = (await conn.execute(query.order_by(f.c.seq.desc()).limit(limit + 1))).mappings().all()
    records = [
        FeedbackRecord(
            id=row["seq"],
            thread_id=row["thread_id"],
            item_id=row["item_id"],
            user=row["user"],
            kind=row["kind"],
            created_at=row["created_at"],
        )
        for row in rows[:limit]
    ]
    return records, len(rows) > limit
