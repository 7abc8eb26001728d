"""The REST shapes the store writes beside each thread and item (the read model), and their version.

The mapping itself lives in ``chatkitd.store.rest_shapes``; this module
serializes what it returns, the way every REST response is serialized, and
says which version of the mapping the stored rows hold.

``VERSION`` is that version. The database records the version its rows hold
(table ``projections``), and chatkitd refuses to start on a database whose
rows hold another (``check_version``, run after migrations). So changing the
mapping is a migration, never a silent change of data:

1. change ``rest_shapes`` (``tests/test_projection.py`` then fails: the
   recorded shapes of every item kind no longer match);
2. bump ``VERSION`` and record the new shapes in
   ``tests/data/rest_projection_v{VERSION}.json``;
3. add a migration whose ``upgrade`` calls ``reproject_all(op.get_bind())``,
   which rewrites every row's shape and records the new version.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from chatkit.types import ThreadItem, ThreadMetadata
from pydantic import TypeAdapter

from chatkitd.store import tables
from chatkitd.store.projection_version import (
    NAME,
    VERSION,
    ProjectionOutOfDate,
    check_version,
    stored_version,
)
from chatkitd.store.rest_shapes import thread_resource, to_rest

__all__ = ["VERSION", "ProjectionOutOfDate", "check_version", "reproject_all", "stored_version"]

BATCH = 2000

_items = TypeAdapter(ThreadItem)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def thread_rest(thread: ThreadMetadata, user: str, created_at: float) -> str:
    return dumps(thread_resource(thread, user, created_at))


def item_rest(item: ThreadItem) -> str | None:
    shape = to_rest(item)
    return None if shape is None else dumps(shape)


def thread_rest_json(data: str, user: str, created_at: float) -> str:
    return thread_rest(ThreadMetadata.model_validate_json(data), user, created_at)


def item_rest_json(data: str) -> str | None:
    return item_rest(_items.validate_json(data))


def reproject_all(conn: sa.Connection) -> None:
    """Rewrite every thread's and item's REST shape with the current mapping, and record ``VERSION``.

    For migrations (synchronous, on the migration's connection), in batches.
    """
    t, i, p = tables.threads, tables.items, tables.projections
    for table, columns, project in (
        (
            t,
            (t.c.seq, t.c.data, t.c.user, t.c.created_at),
            lambda r: thread_rest_json(r.data, r.user, r.created_at),
        ),
        (i, (i.c.seq, i.c.data), lambda r: item_rest_json(r.data)),
    ):
        last = 0
        while rows := conn.execute(
            sa.select(*columns).where(table.c.seq > last).order_by(table.c.seq).limit(BATCH)
        ).all():
            for row in rows:
                conn.execute(sa.update(table).where(table.c.seq == row.seq).values(rest=project(row)))
            last = rows[-1].seq
    if conn.execute(sa.update(p).where(p.c.name == NAME).values(version=VERSION)).rowcount == 0:
        conn.execute(sa.insert(p).values(name=NAME, version=VERSION))
