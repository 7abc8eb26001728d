"""Reading the feedback users gave (``items.feedback``), for the admin console."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from chatkitd.store import tables
from chatkitd.store.db import Database


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    thread_id: str
    item_id: str
    user: str
    kind: str
    created_at: float


async def list_feedback(
    db: Database, project_id: str, thread_id: str | None = None, limit: int = 50
) -> list[FeedbackRecord]:
    """The project's most recent feedback first, optionally for one thread."""
    f = tables.feedback
    query = select(f).where(f.c.project_id == project_id).order_by(f.c.seq.desc()).limit(limit)
    if thread_id is not None:
        query = query.where(f.c.thread_id == thread_id)
    async with db.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [
        FeedbackRecord(
            id=row["seq"],
            thread_id=row["thread_id"],
            item_id=row["item_id"],
            user=row["user"],
            kind=row["kind"],
            created_at=row["created_at"],
        )
        for row in rows
    ]
