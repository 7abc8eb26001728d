"""Who may see which thread, item and attachment: chatkitd's isolation rule, stated once.

Every store path, read or write, REST or conversation, confines its rows with
these conditions; nothing else in chatkitd states them. A caller
(``RequestContext``) sees

- threads of its project; with a client secret, only its user's; and within
  its session's history settings: history off, only the session's own
  threads; ``recent_threads`` N, only the user's N most recent;
- items of the threads it sees;
- attachments of its project (and user); when the session's history is
  limited, only the session's own uploads and the files of threads it sees.

The conditions are plain predicates on the row with bind parameters, not
``id IN (subquery)`` of every visible id, which SQLite would materialize on
every execution. Their *shape* (user or not, which history rule) is all that
varies the SQL, so each statement built on them is built, and compiled, once
per shape and cached; the context only supplies the values (``Scope.params``).
The parameters are named ``tenant_*`` so they never clash with a column's
name in an ``UPDATE``'s values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Table, bindparam, or_, select

from chatkitd.context import RequestContext
from chatkitd.store import tables

T, A = tables.threads, tables.attachments

History = Literal["all", "session", "recent"]


@dataclass(frozen=True)
class Shape:
    """Which conditions apply: the key of every statement cache built on them."""

    by_user: bool
    history: History


@dataclass(frozen=True)
class Scope:
    shape: Shape
    params: dict[str, Any]


def scope(context: RequestContext) -> Scope:
    """The shape of the context's isolation, and the values of its bind parameters."""
    params: dict[str, Any] = {"tenant_project": context.project_id, "tenant_user": context.user}
    session = context.session
    history: History = "all"
    if session is not None and not session.history_enabled:
        history = "session"
    elif session is not None and session.recent_threads is not None:
        history = "recent"
        params["tenant_recent_user"] = session.user
        params["tenant_recent_limit"] = session.recent_threads
    if session is not None and history != "all":
        params["tenant_session"] = session.id
    return Scope(Shape(context.user is not None, history), params)


def visible_threads(shape: Shape, threads: Table = T) -> list[ColumnElement[bool]]:
    """The conditions a row of ``threads`` (the table, or an alias of it) must meet."""
    t = threads.c
    conditions = [t.project_id == bindparam("tenant_project")]
    if shape.by_user:
        conditions.append(t.user == bindparam("tenant_user"))
    if shape.history == "session":
        conditions.append(t.session_id == bindparam("tenant_session"))
    elif shape.history == "recent":
        # An alias of its own: inside an UPDATE of ``threads`` the subquery must not correlate.
        recent = T.alias("recent")
        conditions.append(
            t.id.in_(
                select(recent.c.id)
                .where(
                    recent.c.project_id == bindparam("tenant_project"),
                    recent.c.user == bindparam("tenant_recent_user"),
                )
                .order_by(recent.c.seq.desc())
                .limit(bindparam("tenant_recent_limit"))
            )
        )
    return conditions


def visible_attachments(shape: Shape) -> list[ColumnElement[bool]]:
    """The conditions a row of ``attachments`` must meet."""
    conditions = [A.c.project_id == bindparam("tenant_project")]
    if shape.by_user:
        conditions.append(A.c.user == bindparam("tenant_user"))
    if shape.history != "all":
        # History limits reach files too: a session sees its own uploads and
        # those of the threads it may open, not the rest of the user's past.
        in_visible_thread = A.c.thread_id.in_(select(T.c.id).where(*visible_threads(shape)))
        conditions.append(or_(A.c.session_id == bindparam("tenant_session"), in_visible_thread))
    return conditions
