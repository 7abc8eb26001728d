"""The REST API's read path: pages of the REST shapes the store wrote beside each row.

The REST list endpoints are the hottest reads chatkitd serves, so they never
parse protocol JSON: each row's REST shape was serialized when it was written
(``chatkitd.store.projection``), and a page is those strings spliced together.
Statements are built once per paging plan with bind parameters and run through
``Database.fetch_all``. Admin keys see their whole project, so the only
isolation here is the project (and the optional ``user`` filter).
"""

from __future__ import annotations

import functools

from chatkit.store import NotFoundError
from sqlalchemy import Select, bindparam, select

from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.store.paging import Plan, UnknownCursor, Window, bound_conditions, plan, trim

T, I = tables.threads, tables.items  # noqa: E741

_THREAD_SEQ = select(T.c.seq).where(T.c.id == bindparam("id"), T.c.project_id == bindparam("project_id"))
_THREAD_REST = select(T.c.rest).where(
    T.c.id == bindparam("thread_id"), T.c.project_id == bindparam("project_id")
)
_ITEM_SEQ = select(I.c.seq).where(I.c.id == bindparam("id"), I.c.thread_id == bindparam("thread_id"))


def _ordered(query: Select, seq, how: Plan) -> Select:  # noqa: ANN001
    query = query.where(*bound_conditions(seq, how, bindparam("after_seq"), bindparam("before_seq")))
    return query.order_by(seq.asc() if how.read_ascending else seq.desc()).limit(bindparam("limit"))


@functools.cache
def _threads_page(how: Plan, by_user: bool) -> Select:
    query = select(T.c.id, T.c.rest).where(T.c.project_id == bindparam("project_id"))
    if by_user:
        query = query.where(T.c.user == bindparam("user"))
    return _ordered(query, T.c.seq, how)


@functools.cache
def _items_page(how: Plan) -> Select:
    query = select(I.c.id, I.c.rest).where(I.c.thread_id == bindparam("thread_id"), I.c.rest.is_not(None))
    return _ordered(query, I.c.seq, how)


class RestPages:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _seq(self, statement: Select, cursor: str | None, param: str, **scope: str) -> int | None:
        if cursor is None:
            return None
        rows = await self.db.fetch_all(statement, {"id": cursor, **scope})
        if not rows:
            raise UnknownCursor(param, cursor)
        return rows[0][0]

    async def _page(self, statement: Select, window: Window, how: Plan, params: dict) -> tuple[list, bool]:
        rows = await self.db.fetch_all(statement, {**params, "limit": window.limit + 1})
        return trim(rows, window, how)

    async def threads(
        self, project_id: str, window: Window, user: str | None = None
    ) -> tuple[list[tuple[str, str]], bool]:
        """``(id, rest_json)`` rows of one page of the project's threads."""
        how = plan(window)
        scope = {"project_id": project_id}
        params = {
            **scope,
            "user": user,
            "after_seq": await self._seq(_THREAD_SEQ, window.after, "after", **scope),
            "before_seq": await self._seq(_THREAD_SEQ, window.before, "before", **scope),
        }
        return await self._page(_threads_page(how, user is not None), window, how, params)

    async def thread(self, project_id: str, thread_id: str) -> str:
        rows = await self.db.fetch_all(_THREAD_REST, {"project_id": project_id, "thread_id": thread_id})
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        return rows[0][0]

    async def items(
        self, project_id: str, thread_id: str, window: Window
    ) -> tuple[list[tuple[str, str]], bool]:
        """``(id, rest_json)`` rows of one page of a thread's REST-listed items."""
        await self.thread(project_id, thread_id)
        how = plan(window)
        scope = {"thread_id": thread_id}
        params = {
            **scope,
            "after_seq": await self._seq(_ITEM_SEQ, window.after, "after", **scope),
            "before_seq": await self._seq(_ITEM_SEQ, window.before, "before", **scope),
        }
        return await self._page(_items_page(how), window, how, params)
