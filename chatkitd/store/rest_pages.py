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

_IN_PROJECT = T.c.project_id == bindparam("project_id")
_IN_THREAD = I.c.thread_id == bindparam("thread_id")
_THREAD_REST = select(T.c.rest).where(T.c.id == bindparam("thread_id"), _IN_PROJECT)


def _seq_of(table: Table, cursor: str, scope: ColumnElement[bool]) -> Select:
    """The ``seq`` of the row of ``table`` in ``scope`` that the ``cursor`` parameter names."""
    return select(table.c.seq).where(table.c.id == bindparam(cursor), scope)


# Looked at only when a page comes back empty: was a cursor unknown?
_THREAD_CURSOR = _seq_of(T, "cursor", _IN_PROJECT)
_ITEM_CURSOR = _seq_of(I, "cursor", _IN_THREAD)


def _ordered(query: Select, table: Table, scope: ColumnElement[bool], how: Plan) -> Select:
    def cursor_seq(cursor: str) -> ColumnElement:
        # A subquery of its own (not correlated with the page's table); NULL, and so
        # an empty page, when the cursor names no row in scope.
        return _seq_of(table, cursor, scope).correlate(None).scalar_subquery()

    seq = table.c.seq
    after = cursor_seq("after") if how.after else None
    before = cursor_seq("before") if how.before else None
    query = query.where(*bound_conditions(seq, how, after, before))
    return query.order_by(seq.asc() if how.read_ascending else seq.desc()).limit(bindparam("limit"))


@functools.cache
def _threads_page(how: Plan, by_user: bool) -> Select:
    query = select(T.c.id, T.c.rest).where(_IN_PROJECT)
    if by_user:
        query = query.where(T.c.user == bindparam("user"))
    return _ordered(query, T, _IN_PROJECT, how)


@functools.cache
def _items_page(how: Plan) -> Select:
    thread_in_project = exists().where(T.c.id == bindparam("thread_id"), _IN_PROJECT)
    query = select(I.c.id, I.c.rest).where(_IN_THREAD, I.c.rest.is_not(None), thread_in_project)
    return _ordered(query, I, _IN_THREAD, how)


class RestPages:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _check_cursors(self, statement: Select, window: Window, scope: dict[str, str]) -> None:
        for param, cursor in (("after", window.after), ("before", window.before)):
            if cursor is not None and not await self.db.fetch_all(statement, {"cursor": cursor, **scope}):
                raise UnknownCursor(param, cursor)

    async def _page(self, statement: Select, window: Window, how: Plan, params: dict) -> tuple[list, bool]:
        rows = await self.db.fetch_all(
            statement, {**params, "after": window.after, "before": window.before, "limit": window.limit + 1}
        )
        return trim(rows, window, how)

    async def threads(self, project_id: str, window: Window, user: str | None = None) -> bytes:
        """The list body of one page of the project's threads."""
        how = plan(window)
        statement = _threads_page(how, user is not None)
        rows, has_more = await self._page(statement, window, how, {"project_id": project_id, "user": user})
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
        how = plan(window)
        params = {"project_id": project_id, "thread_id": thread_id}
        rows, has_more = await self._page(_items_page(how), window, how, params)
        if not rows:
            await self.thread(project_id, thread_id)
            await self._check_cursors(_ITEM_CURSOR, window, {"thread_id": thread_id})
        return list_body(rows, has_more)
