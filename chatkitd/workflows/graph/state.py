"""A graph workflow's memory of a thread: its state variables, which ``set_state`` assigns.

They live in the database (``graph_threads``), so the thread's next turn, in
any server process, sees them. (A run waiting for a person is not kept here:
its position is the approvals core's pause, ``chatkitd.approvals``.)
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

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


def _upsert(dialect: Any) -> Any:
    """One statement, built once, whatever the row's state: a turn's write is a single execute
    (an UPDATE, then an INSERT when it touched nothing, cost twice that on a thread's first turn,
    and building the statements anew each time cost more than running them)."""
    statement = dialect.insert(g)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[g.c.thread_id],
        set_={"state": new.state, "updated_at": new.updated_at},
        where=g.c.project_id == new.project_id,  # a thread id is never another project's
    )


_SAVE = {"sqlite": _upsert(sqlite_dialect), "postgresql": _upsert(postgresql_dialect)}


async def save(db: Database, project_id: str, thread_id: str, state: dict[str, Any]) -> None:
    row = {
        "thread_id": thread_id,
        "project_id": project_id,
        "state": json.dumps(state, default=str),
        "updated_at": clock.unix(),
    }
    async with db.write() as conn:
        await conn.execute(_SAVE[conn.dialect.name], row)
