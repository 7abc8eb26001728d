"""A graph workflow's memory of a thread: its state variables, which ``set_state`` assigns.

They live in the database (``graph_threads``), so the thread's next turn, in
any server process, sees them. (A run waiting for a person is not kept here:
its position is the approvals core's pause, ``chatkitd.approvals``.)
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select, update

from chatkitd import clock
from chatkitd.store import tables
from chatkitd.store.db import Database

g = tables.graph_threads
# Read on every turn of a graph: built once, run by the store's prepared-read path.
_LOAD = select(g.c.state).where(
    g.c.thread_id == bindparam("thread_id"), g.c.project_id == bindparam("project_id")
)


async def load(db: Database, project_id: str, thread_id: str) -> dict[str, Any]:
    """The thread's state variables, as ``set_state`` last left them (empty before any)."""
    rows = await db.fetch_all(_LOAD, {"thread_id": thread_id, "project_id": project_id})
    return json.loads(rows[0][0]) if rows else {}


async def save(db: Database, project_id: str, thread_id: str, state: dict[str, Any]) -> None:
    values = {"state": json.dumps(state, default=str), "updated_at": clock.unix()}
    async with db.write() as conn:
        changed = await conn.execute(
            update(g).where(g.c.thread_id == thread_id, g.c.project_id == project_id).values(**values)
        )
        if changed.rowcount == 0:
            await conn.execute(g.insert().values(thread_id=thread_id, project_id=project_id, **values))
