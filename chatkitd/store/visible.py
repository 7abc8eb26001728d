"""The protocol's hot reads, as statements built once per isolation shape.

``ThreadStore`` confines every query to the threads a ``RequestContext`` may
see: its project, its user (client secrets), and its session's history
settings (history off: the session's own threads; ``recent_threads`` N: the
user's N most recent). Building those conditions anew on each call and running
them through SQLAlchemy's async machinery cost more than the queries. Here
the same conditions are written once per *shape* (user or not; which history
rule) with bind parameters, cached, and run through ``Database.fetch_all``;
the context only supplies the values (``Scope.params``).

Each read is one statement: the thread's visibility and the rows asked for
are joined, so "no such thread" (no row) and "no such item" or "no items"
(one row of NULLs) come from the same snapshot.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, or_, select

from chatkitd.context import RequestContext
from chatkitd.store import tables
from chatkitd.store.paging import Plan, bound_conditions

T, I = tables.threads, tables.items  # noqa: E741

History = Literal["all", "session", "recent"]


@dataclass(frozen=True)
class Shape:
    """Which isolation conditions apply: the key of the statement caches."""

    by_user: bool
    history: History


@dataclass(frozen=True)
class Scope:
    shape: Shape
    params: dict[str, Any]


def scope(context: RequestContext) -> Scope:
    """The shape of the context's isolation, and the values of its bind parameters."""
    params: dict[str, Any] = {"project_id": context.project_id, "user": context.user}
    session = context.session
    history: History = "all"
    if session is not None and not session.history_enabled:
        history = "session"
        params["session_id"] = session.id
    elif session is not None and session.recent_threads is not None:
        history = "recent"
        params["recent_user"] = session.user
        params["recent_limit"] = session.recent_threads
    return Scope(Shape(context.user is not None, history), params)


def conditions(shape: Shape) -> list[ColumnElement[bool]]:
    """The conditions a ``threads`` row must meet, as ``ThreadStore._thread_filters`` states them."""
    filters = [T.c.project_id == bindparam("project_id")]
    if shape.by_user:
        filters.append(T.c.user == bindparam("user"))
    if shape.history == "session":
        filters.append(T.c.session_id == bindparam("session_id"))
    elif shape.history == "recent":
        recent = T.alias("recent")
        filters.append(
            T.c.id.in_(
                select(recent.c.id)
                .where(
                    recent.c.project_id == bindparam("project_id"), recent.c.user == bindparam("recent_user")
                )
                .order_by(recent.c.seq.desc())
                .limit(bindparam("recent_limit"))
            )
        )
    return filters


def _this_thread(shape: Shape) -> list[ColumnElement[bool]]:
    return [T.c.id == bindparam("thread_id"), *conditions(shape)]


@functools.cache
def thread_row(shape: Shape) -> Select:
    """``(data, user, created_at)`` of one visible thread; no row if it is not visible."""
    return select(T.c.data, T.c.user, T.c.created_at).where(*_this_thread(shape))


@functools.cache
def item_row(shape: Shape) -> Select:
    """``(data,)`` of one item of a visible thread: no row for the thread, NULL for the item."""
    joined = T.outerjoin(I, and_(I.c.thread_id == T.c.id, I.c.id == bindparam("item_id")))
    return select(I.c.data).select_from(joined).where(*_this_thread(shape))


@functools.cache
def cursors(shape: Shape) -> Select:
    """``(seq, after_seq, before_seq)`` of a visible thread and the seqs of its cursor items."""

    def seq_of(param: str) -> Any:
        cursor = I.alias(f"{param}_item")
        return (
            select(cursor.c.seq)
            .where(cursor.c.id == bindparam(param), cursor.c.thread_id == T.c.id)
            .scalar_subquery()
        )

    return select(T.c.seq, seq_of("after"), seq_of("before")).where(*_this_thread(shape))


def _type_filter(types: frozenset[str] | None) -> list[ColumnElement[bool]]:
    # Literal values rather than an expanding IN: the statement compiles once, as is.
    if types is None:
        return []
    if not types:
        return [false()]  # no type asked for: no items, as an empty IN would say
    return [or_(*(I.c.type == kind for kind in sorted(types)))]


@functools.cache
def first_page(shape: Shape, ascending: bool, types: frozenset[str] | None) -> Select:
    """``(seq, data)`` of a visible thread's first ``limit`` items; one NULL row when it has none.

    The thread is the outer side of the join, so an invisible thread yields no
    row at all. Its one row drives the items' ``(thread_id, seq)`` index, in order.
    """
    joined = T.outerjoin(I, and_(I.c.thread_id == T.c.id, *_type_filter(types)))
    return (
        select(I.c.seq, I.c.data)
        .select_from(joined)
        .where(*_this_thread(shape))
        .order_by(I.c.seq.asc() if ascending else I.c.seq.desc())
        .limit(bindparam("limit"))
    )


@functools.cache
def later_page(how: Plan, types: frozenset[str] | None) -> Select:
    """``(seq, data)`` of a thread's items between cursors (visibility checked by ``cursors``)."""
    bounds = bound_conditions(I.c.seq, how, bindparam("after_seq"), bindparam("before_seq"))
    return (
        select(I.c.seq, I.c.data)
        .where(I.c.thread_id == bindparam("thread_id"), *bounds, *_type_filter(types))
        .order_by(I.c.seq.asc() if how.read_ascending else I.c.seq.desc())
        .limit(bindparam("limit"))
    )
