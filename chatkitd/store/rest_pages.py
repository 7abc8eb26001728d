"""The REST API's read path: pages of the REST shapes the store wrote beside each row.

The REST list endpoints are the hottest reads chatkitd serves, so they never
parse protocol JSON: each row's REST shape was serialized when it was written
(``chatkitd.store.projection``), and a page is those strings spliced together.
A page is one statement, built once per paging plan with bind parameters and
run through ``Database.fetch_all``; the cursors and the thread's project are
subqueries of it, looked at on their own only when the page comes back empty,
to tell an empty page from an unknown cursor or thread.

Admin keys see their whole project, so the only isolation here is the project
(and the optional ``user`` filter).
"""

from __future__ import annotations

import functools

from chatkit.store import NotFoundError
from sqlalchemy import ColumnElement, Select, Table, bindparam, exists, select

from chatkitd.rest.threads import list_body
from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.store.paging import Plan, UnknownCursor, Window, bound_conditions, plan, trim

T, I = tables.threads, tables.items  # noqa: E741

_THREAD_REST = select(T.c.rest).where(
    T.c.id == bindparam("thread_id"), T.c.project_id == bindparam("project_id")
)
_THREAD_CURSOR = select(T.c.seq).where(
    T.c.id == bindparam("cursor"), T.c.project_id == bindparam("project_id")
)
_ITEM_CURSOR = select(I.c.seq).where(I.c.id == bindparam("cursor"), I.c.thread_id == bindparam("thread_id"))


def _cursor_seq(table: Table, cursor: str, scope: ColumnElement[bool]) -> ColumnElement:
    """The ``seq`` of the row named by the ``cursor`` parameter; NULL (no rows) when none is."""
    return select(table.c.seq).where(table.c.id == bindparam(cursor), scope).correlate(None).scalar_subquery()


def _ordered(query: Select, table: Table, scope: ColumnElement[bool], how: Plan) -> Select:
    seq = table.c.seq
    after = _cursor_seq(table, "after", scope) if how.after else None
    before = _cursor_seq(table, "before", scope) if how.before else None
    query = query.where(*bound_conditions(seq, how, after, before))
    return query.order_by(seq.asc() if how.read_ascending else seq.desc()).limit(bindparam("limit"))


@functools.cache
def _threads_page(how: Plan, by_user: bool) -> Select:
    in_project = T.c.project_id == bindparam("project_id")
    query = select(T.c.id, T.c.rest).where(in_project)
    if by_user:
        query = query.where(T.c.user == bindparam("user"))
    return _ordered(query, T, in_project, how)


@functools.cache
def _items_page(how: Plan) -> Select:
    thread_in_project = exists().where(
        T.c.id == bindparam("thread_id"), T.c.project_id == bindparam("project_id")
    )
    query = select(I.c.id, I.c.rest).where(
        I.c.thread_id == bindparam("thread_id"), I.c.rest.is_not(None), thread_in_project
    )
    return _ordered(query, I, I.c.thread_id == bindparam("thread_id"), how)


class RestPages:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _check_cursors(self, statement: Select, window: Window, scope: dict[str, str]) -> None:
        for param, cursor in (("after", window.after), ("before", window.before)):
            if cursor is not None and not await self.db.fetch_all(statement, {"cursor": cursor, **scope}):
                raise UnknownCursor(param, cursor)

    async def _page(self, statement: Select, window: Window, params: dict) -> tuple[list, bool]:
        rows = await self.db.fetch_all(
            statement, {**params, "after": window.after, "before": window.before, "limit": window.limit + 1}
        )
        return trim(rows, window, plan(window))

    async def threads(self, project_id: str, window: Window, user: str | None = None) -> bytes:
        """The list body of one page of the project's threads."""
        statement = _threads_page(plan(window), user is not None)
        rows, has_more = await self._page(statement, window, {"project_id": project_id, "user": user})
        if not rows:
            await self._check_cursors(_THREAD_CURSOR, window, {"project_id": project_id})
        return list_body(rows, has_more)

    async def thread(self, project_id: str, thread_id: str) -> bytes:
        """The REST shape of one thread of the project."""
        rows = await self.db.fetch_all(_THREAD_REST, {"project_id": project_id, "thread_id": thread_id})
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        return rows[0][0].encode()

    async def items(self, project_id: str, thread_id: str, window: Window) -> bytes:
        """The list body of one page of a thread's REST-listed items."""
        params = {"project_id": project_id, "thread_id": thread_id}
        rows, has_more = await self._page(_items_page(plan(window)), window, params)
        if not rows:
            await self.thread(project_id, thread_id)
            await self._check_cursors(_ITEM_CURSOR, window, {"thread_id": thread_id})
        return list_body(rows, has_more)
