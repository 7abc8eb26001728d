"""Statements over what a caller may see, built once per isolation shape.

Every read of threads and items, the conversation's and the REST API's, and
every write's check that the caller may touch a thread, is one of these
statements: the tenancy conditions (``chatkitd.store.tenancy``), the rows
asked for and, for lists, the paging rule (``chatkitd.store.paging``),
combined once per shape and plan with bind parameters, cached, and run with
the context's values. Building them anew on each call cost more than the
queries.

Two faces read the same rows: the protocol (``chatkit.types`` JSON, for the
conversation and the admin console) and the REST API (the shapes stored
beside each row, ``chatkitd.store.projection``).
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Update, and_, bindparam, exists, false, or_, select, update
from sqlalchemy.dialects import postgresql

from chatkitd.store import tables
from chatkitd.store.paging import Plan, cursor_seq, keyset
from chatkitd.store.tenancy import Shape, visible_threads

T, I = tables.threads, tables.items  # noqa: E741

# What a whole project sees: an admin key, and so the REST API.
PROJECT = Shape(by_user=False, history="all")

Face = Literal["protocol", "rest"]
_THREAD_COLUMNS: dict[Face, tuple[Any, ...]] = {
    "protocol": (T.c.data, T.c.user, T.c.created_at),
    "rest": (T.c.id, T.c.rest),
}
_ITEM_COLUMNS: dict[Face, tuple[Any, ...]] = {"protocol": (I.c.data,), "rest": (I.c.id, I.c.rest)}
_THIS_THREAD = T.c.id == bindparam("thread_id")
_IN_THREAD = I.c.thread_id == bindparam("thread_id")


def _this_visible_thread(shape: Shape) -> list[ColumnElement[bool]]:
    return [_THIS_THREAD, *visible_threads(shape)]


@functools.cache
def thread_row(shape: Shape, face: Face = "protocol") -> Select:
    """One visible thread (``thread_id``): ``(data, user, created_at)`` or ``(id, rest)``; else no row."""
    return select(*_THREAD_COLUMNS[face]).where(*_this_visible_thread(shape))


@functools.cache
def thread_seq(shape: Shape) -> Select:
    """The ``seq`` of one visible thread: how a write checks that the caller may touch it."""
    return select(T.c.seq).where(*_this_visible_thread(shape))


@functools.cache
def touch_thread(shape: Shape) -> Update:
    """Set a visible thread's ``updated_at`` (``touched_at``); it changes no row when not visible."""
    return update(T).where(*_this_visible_thread(shape)).values(updated_at=bindparam("touched_at"))


@functools.cache
def update_thread(shape: Shape) -> Update:
    """Update a visible thread (``thread_id``), setting the columns its parameters name."""
    return update(T).where(*_this_visible_thread(shape))


@functools.cache
def add_item_touching_thread(shape: Shape) -> Select:
    """PostgreSQL: ``touch_thread`` and an item's upsert (``item_*``) in one statement.

    Answers ``(visible, added)``: whether the thread is one the caller sees
    (locked, as the update would), and whether the item went in; it goes in,
    and the thread is touched, only when both hold. An item already in the same
    thread is updated (``threads.add_thread_item``); one of another thread is left alone.
    """
    target = select(T.c.id).where(*_this_visible_thread(shape)).with_for_update(key_share=True).cte("target")
    values = select(
        bindparam("item_id", type_=I.c.id.type),
        target.c.id,
        bindparam("item_type", type_=I.c.type.type),
        bindparam("item_created_at", type_=I.c.created_at.type),
        bindparam("item_data", type_=I.c.data.type),
        bindparam("item_rest", type_=I.c.rest.type),
    )
    columns = ["id", "thread_id", "type", "created_at", "data", "rest"]
    upsert = postgresql.insert(I).from_select(columns, values)
    new = upsert.excluded
    added = (
        upsert.on_conflict_do_update(
            index_elements=[I.c.id],
            set_={"type": new.type, "data": new.data, "rest": new.rest},
            where=I.c.thread_id == new.thread_id,
        )
        .returning(I.c.thread_id)
        .cte("added")
    )
    touched = (
        update(T)
        .where(T.c.id.in_(select(added.c.thread_id)))
        .values(updated_at=bindparam("touched_at"))
        .returning(T.c.id)
        .cte("touched")
    )
    return select(
        exists(select(target.c.id)),
        exists(select(touched.c.id)),
    )


@functools.cache
def item_row(shape: Shape) -> Select:
    """``(data,)`` of one item of a visible thread: no row for the thread, NULL for the item."""
    joined = T.outerjoin(I, and_(I.c.thread_id == T.c.id, I.c.id == bindparam("item_id")))
    return select(I.c.data).select_from(joined).where(*_this_visible_thread(shape))


@functools.cache
def threads_page(shape: Shape, how: Plan, face: Face = "protocol", by_user: bool = False) -> Select:
    """A page of visible threads (``by_user``: of ``filter_user`` only). A cursor is any visible thread."""
    query = select(*_THREAD_COLUMNS[face]).where(*visible_threads(shape))
    if by_user:
        query = query.where(T.c.user == bindparam("filter_user"))
    return keyset(query, T, visible_threads(shape), how)


@functools.cache
def thread_cursor(shape: Shape) -> Select:
    """A threads page's cursor (``cursor``), looked at alone when the page comes back empty."""
    return cursor_seq(T, visible_threads(shape))


def _type_filter(types: frozenset[str] | None) -> list[ColumnElement[bool]]:
    # Literal values rather than an expanding IN: the statement compiles once, as is.
    if types is None:
        return []
    if not types:
        return [false()]  # no type asked for: no items, as an empty IN would say
    return [or_(*(I.c.type == kind for kind in sorted(types)))]


@functools.cache
def items_page(
    shape: Shape, how: Plan, face: Face = "protocol", types: frozenset[str] | None = None
) -> Select:
    """A page of one visible thread's items: all of them for the protocol (or those of ``types``),
    those with a REST shape for the REST API. A cursor is any item of the thread."""
    listed = [I.c.rest.is_not(None)] if face == "rest" else _type_filter(types)
    visible = exists().where(*_this_visible_thread(shape))
    query = select(*_ITEM_COLUMNS[face]).where(_IN_THREAD, *listed, visible)
    return keyset(query, I, [_IN_THREAD], how)


ITEM_CURSOR = cursor_seq(I, [_IN_THREAD])
