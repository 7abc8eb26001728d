"""A graph workflow's memory of a thread: its state variables, and a run paused for an approval.

Both live in the database (``graph_threads``), so the next turn, and any
server process, sees them. A paused run is claimed by the token its card
carries, in one statement: two answers to one question never both resume it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sqlalchemy import bindparam, select, update

from chatkitd import clock
from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.workflows.graph.run import Position

g = tables.graph_threads
# Read on every turn of a graph: built once, run by the store's prepared-read path.
_LOAD = select(g.c.state, g.c.paused).where(
    g.c.thread_id == bindparam("thread_id"), g.c.project_id == bindparam("project_id")
)


async def load(db: Database, project_id: str, thread_id: str) -> tuple[dict[str, Any], Position | None]:
    """The thread's state variables and its paused run (if one waits)."""
    rows = await db.fetch_all(_LOAD, {"thread_id": thread_id, "project_id": project_id})
    if not rows:
        return {}, None
    state, paused = rows[0]
    return json.loads(state), Position(**json.loads(paused)) if paused else None


async def save(
    db: Database,
    project_id: str,
    thread_id: str,
    state: dict[str, Any],
    paused: Position | None = None,
    token: str | None = None,
) -> None:
    """Keep the thread's state (and the paused run, or none: a new run replaces an old pause)."""
    values = {
        "state": json.dumps(state, default=str),
        "paused": json.dumps(dataclasses.asdict(paused), default=str) if paused else None,
        "paused_token": token,
        "updated_at": clock.unix(),
    }
    async with db.write() as conn:
        changed = await conn.execute(
            update(g).where(g.c.thread_id == thread_id, g.c.project_id == project_id).values(**values)
        )
        if changed.rowcount == 0:
            await conn.execute(g.insert().values(thread_id=thread_id, project_id=project_id, **values))


async def claim(db: Database, project_id: str, thread_id: str, token: str) -> Position | None:
    """Take the paused run waiting on ``token``: the first answer gets it, later ones get None."""
    async with db.write() as conn:
        row = (
            await conn.execute(
                select(g.c.paused).where(
                    g.c.thread_id == thread_id, g.c.project_id == project_id, g.c.paused_token == token
                )
            )
        ).first()
        if row is None or not row.paused:
            return None
        taken = await conn.execute(
            update(g)
            .where(g.c.thread_id == thread_id, g.c.paused_token == token)
            .values(paused=None, paused_token=None, updated_at=clock.unix())
        )
        if taken.rowcount != 1:
            return None
    return Position(**json.loads(row.paused))
