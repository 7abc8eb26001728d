"""The REST API's read path: pages of the REST shapes the store wrote beside each row.

The REST list endpoints are the hottest reads chatkitd serves, so they never
parse protocol JSON: each row's REST shape was serialized when it was written
(``chatkitd.store.projection``), and a page is those strings spliced together.
A page is one statement (``chatkitd.store.visible``, with the paging rule of
``chatkitd.store.paging``); only when it comes back empty are the thread and
the cursors looked at on their own, to tell an empty page from an unknown
cursor or thread.

Admin keys see their whole project (``visible.PROJECT``), optionally
narrowed to one ``user``.
"""

from __future__ import annotations

from chatkit.store import NotFoundError

from chatkitd.store import visible
from chatkitd.store.db import Database
from chatkitd.store.paging import Window, check_cursors, plan, read_page
from chatkitd.store.rest_shapes import list_body

PROJECT = visible.PROJECT


class RestPages:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def threads(self, project_id: str, window: Window, user: str | None = None) -> bytes:
        """The list body of one page of the project's threads."""
        statement = visible.threads_page(PROJECT, plan(window), "rest", by_user=user is not None)
        scope = {"tenant_project": project_id}
        rows, has_more = await read_page(self.db, statement, window, {**scope, "filter_user": user})
        if not rows:
            await check_cursors(self.db, visible.thread_cursor(PROJECT), window, scope)
        return list_body(rows, has_more)

    async def thread(self, project_id: str, thread_id: str) -> bytes:
        """The REST shape of one thread of the project."""
        rows = await self.db.fetch_all(
            visible.thread_row(PROJECT, "rest"), {"tenant_project": project_id, "thread_id": thread_id}
        )
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        return rows[0][1].encode()

    async def items(self, project_id: str, thread_id: str, window: Window) -> bytes:
        """The list body of one page of a thread's REST-listed items."""
        params = {"tenant_project": project_id, "thread_id": thread_id}
        rows, has_more = await read_page(
            self.db, visible.items_page(PROJECT, plan(window), "rest"), window, params
        )
        if not rows:
            await self.thread(project_id, thread_id)
            await check_cursors(self.db, visible.ITEM_CURSOR, window, params)
        return list_body(rows, has_more)
