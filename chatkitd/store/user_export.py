"""Everything kept about one user of a project, as JSON lines: the answer to a data request.

``chatkitd export --user U`` writes one JSON object a line, thread by thread:
the thread in the REST API's shape (``"object": "chatkit.thread"``), then each
of its items as ``GET /threads/{id}/items`` shows it (``chatkit.thread_item``)
or, for the items that endpoint does not list (widgets, tasks, hidden
context), as the conversation protocol stores them (``chatkit.protocol_item``).
Then the user's attachments (metadata; the bytes stay in storage) and the
feedback the user gave. Rows are read in batches, so a user with a million
items is written in bounded memory.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select

from chatkitd.store import tables
from chatkitd.store.db import Database

_BATCH = 500


async def _batches(db: Database, query: Any) -> AsyncIterator[Sequence[Any]]:
    """``query`` (ordered by ``seq``, its first column) in batches, resuming after the last ``seq``."""
    after = 0
    while True:
        async with db.read() as conn:
            rows = (await conn.execute(query.where(query.selected_columns[0] > after).limit(_BATCH))).all()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


async def user_records(db: Database, project_id: str, user: str) -> AsyncIterator[dict[str, Any]]:
    threads, items = tables.threads, tables.items
    owned_threads = (
        select(threads.c.seq, threads.c.id, threads.c.rest)
        .where(threads.c.project_id == project_id, threads.c.user == user)
        .order_by(threads.c.seq)
    )
    async for batch in _batches(db, owned_threads):
        for _, thread_id, rest in batch:
            yield json.loads(rest) if rest else {"object": "chatkit.thread", "id": thread_id}
            in_thread = select(items.c.seq, items.c.rest, items.c.data).where(items.c.thread_id == thread_id)
            async for rows in _batches(db, in_thread.order_by(items.c.seq)):
                for _, item_rest, data in rows:
                    if item_rest is not None:
                        yield json.loads(item_rest)
                    else:
                        yield {
                            "object": "chatkit.protocol_item",
                            "thread_id": thread_id,
                            "item": json.loads(data),
                        }

    attachments = tables.attachments
    uploaded = (
        select(attachments.c.seq, attachments.c.data, attachments.c.thread_id, attachments.c.created_at)
        .where(attachments.c.project_id == project_id, attachments.c.user == user)
        .order_by(attachments.c.seq)
    )
    async for rows in _batches(db, uploaded):
        for _, data, thread_id, created_at in rows:
            stored = json.loads(data)
            yield {
                "object": "chatkit.attachment",
                "id": stored.get("id"),
                "thread_id": thread_id,
                "name": stored.get("name"),
                "mime_type": stored.get("mime_type"),
                "created_at": int(created_at),
            }

    feedback = tables.feedback
    given = (
        select(
            feedback.c.seq, feedback.c.thread_id, feedback.c.item_id, feedback.c.kind, feedback.c.created_at
        )
        .where(feedback.c.project_id == project_id, feedback.c.user == user)
        .order_by(feedback.c.seq)
    )
    async for rows in _batches(db, given):
        for _, thread_id, item_id, kind, created_at in rows:
            yield {
                "object": "chatkit.feedback",
                "thread_id": thread_id,
                "item_id": item_id,
                "kind": kind,
                "created_at": int(created_at),
            }
