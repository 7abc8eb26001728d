"""Secrets every replica sharing the database must agree on, made once and kept in the database.

The first process to start writes its candidate; every other one (and every
later start) reads what is there. Insert-if-absent makes the race between
replicas starting together harmless: one row wins, all read it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from chatkitd import clock
from chatkitd.store import tables
from chatkitd.store.db import Database

K = tables.server_keys
# Insert-if-absent, in each dialect's words.
_INSERT_ONCE = {
    "sqlite": sqlite.insert(K).on_conflict_do_nothing(index_elements=[K.c.name]),
    "postgresql": postgresql.insert(K).on_conflict_do_nothing(index_elements=[K.c.name]),
}


async def shared(db: Database, name: str, candidate: str) -> str:
    """The value stored under ``name``, storing ``candidate`` first if there is none."""
    async with db.write() as conn:
        row = {"name": name, "value": candidate, "created_at": clock.unix()}
        await conn.execute(_INSERT_ONCE[conn.dialect.name], row)
        value = await conn.scalar(select(K.c.value).where(K.c.name == name))
    assert value is not None
    return value
