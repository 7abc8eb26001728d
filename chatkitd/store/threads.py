"""Threads, items and attachment records: ``openai-chatkit``'s ``Store`` on SQL.

Both faces of chatkitd use this one class: ``ChatKitServer`` through the
``Store`` methods, the REST API through ``page_threads`` and ``page_items``.
Items are kept in the protocol's own model (``chatkit.types``) as JSON, with
the columns needed to page and filter beside them.

Isolation lives here, in ``_thread_filters``: every query is confined to the
caller's project, to the user of a client secret, and to the threads the
session's history settings allow. The protocol's hot reads (a thread, an item,
a page of items) state the same conditions as cached statements with bind
parameters, in ``chatkitd.store.visible``: the two must stay in step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from chatkit.store import NotFoundError, Store, StoreItemType
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata
from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Select, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from chatkitd import clock, ids
from chatkitd.context import RequestContext
from chatkitd.store import tables, visible
from chatkitd.store.blobs import FileBlobStore
from chatkitd.store.db import Database
from chatkitd.store.paging import Order, UnknownCursor, Window, fetch_page, plan, trim
from chatkitd.store.projection import item_rest, thread_rest

_items = TypeAdapter(ThreadItem)
_attachments = TypeAdapter(Attachment)

T, I, A = tables.threads, tables.items, tables.attachments  # noqa: E741
# Built once and given each row as parameters: ``.values(**row)`` would coerce
# every column into a new statement on each call, which costs more than the insert.
_INSERT_THREAD, _INSERT_ITEM = insert(T), insert(I)
_FRESH_THREAD = "chatkitd.fresh_thread_id"  # in RequestContext.extras


def _add_item(dialect: Any) -> Any:
    """An insert that updates an item already in the same thread.

    chatkit adds an item twice when a run leaves a task group open: once at the
    end of that run, again when the next run finishes it (its own reference
    store fails there). The same id in another thread is left alone.
    """
    statement = dialect.insert(I)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[I.c.id],
        set_={"type": new.type, "data": new.data, "rest": new.rest},
        where=I.c.thread_id == new.thread_id,
    )


_ADD_ITEM = {"sqlite": _add_item(sqlite_dialect), "postgresql": _add_item(postgresql_dialect)}


@dataclass(frozen=True)
class StoredThread:
    """A thread as the REST API sees it: the protocol metadata plus its owner."""

    metadata: ThreadMetadata
    user: str
    created_at: float


def _timestamp(item_or_thread: ThreadItem | ThreadMetadata) -> float:
    return clock.to_utc(item_or_thread.created_at).timestamp()


def _metadata_json(thread: ThreadMetadata) -> str:
    # save_thread may receive a full Thread; only its metadata is stored.
    meta = ThreadMetadata.model_validate(thread.model_dump(exclude={"items"}))
    meta.created_at = clock.to_utc(meta.created_at)
    return meta.model_dump_json()


def _item_json(item: ThreadItem) -> str:
    return item.model_copy(update={"created_at": clock.to_utc(item.created_at)}).model_dump_json()


def item_row(thread_id: str, item: ThreadItem) -> dict[str, object]:
    """An ``items`` row: the protocol JSON, its REST shape, and the columns pages use."""
    return {
        "id": item.id,
        "thread_id": thread_id,
        "type": item.type,
        "created_at": _timestamp(item),
        "data": _item_json(item),
        "rest": item_rest(item),
    }


class ThreadStore(Store[RequestContext]):
    def __init__(self, db: Database, blobs: FileBlobStore) -> None:
        self.db = db
        self.blobs = blobs

    # -- ids: collision-safe, in the REST API's style --------------------------

    def generate_thread_id(self, context: RequestContext) -> str:
        thread_id = ids.new_id(ids.THREAD)
        # No row can have an id minted just now: save_thread may insert it without looking first.
        context.extras[_FRESH_THREAD] = thread_id
        return thread_id

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        return ids.new_id(ids.ITEM)

    # -- isolation ----------------------------------------------------------------

    def _thread_filters(self, context: RequestContext) -> list[ColumnElement[bool]]:
        """Conditions a ``threads`` row must meet for this caller to touch it.

        They are plain predicates on the row, not ``id IN (subquery)``: SQLite
        materializes such a subquery on every execution, which made each lookup
        cost as much as reading the whole project. ``visible.conditions`` states
        the same conditions for the cached read statements.
        """
        filters = [T.c.project_id == context.project_id]
        if context.user is not None:
            filters.append(T.c.user == context.user)
        session = context.session
        if session is not None and not session.history_enabled:
            filters.append(T.c.session_id == session.id)
        elif session is not None and session.recent_threads is not None:
            # An alias: inside an UPDATE of ``threads`` the subquery must not correlate.
            mine = T.alias("recent")
            recent = (
                select(mine.c.id)
                .where(mine.c.project_id == context.project_id, mine.c.user == session.user)
                .order_by(mine.c.seq.desc())
                .limit(session.recent_threads)
            )
            filters.append(T.c.id.in_(recent))
        return filters

    def _visible_threads(self, context: RequestContext) -> Select:
        """The ids of the threads this caller may touch."""
        return select(T.c.id).where(*self._thread_filters(context))

    async def _require_thread(self, conn: AsyncConnection, thread_id: str, context: RequestContext) -> None:
        found = await conn.scalar(select(T.c.seq).where(T.c.id == thread_id, *self._thread_filters(context)))
        if found is None:
            raise NotFoundError(f"Thread {thread_id} not found")

    # -- threads ------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        return (await self.get_thread(thread_id, context)).metadata

    async def get_thread(self, thread_id: str, context: RequestContext) -> StoredThread:
        where = visible.scope(context)
        rows = await self.db.fetch_all(
            visible.thread_row(where.shape), {**where.params, "thread_id": thread_id}
        )
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        data, user, created_at = rows[0]
        return StoredThread(ThreadMetadata.model_validate_json(data), user, created_at)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        values = {
            "data": _metadata_json(thread),
            "title": thread.title,
            "status": thread.status.type,
            "updated_at": clock.unix(),
        }
        fresh = context.extras.get(_FRESH_THREAD) == thread.id
        if fresh:
            del context.extras[_FRESH_THREAD]
        async with self.db.write() as conn:
            existing = (
                None
                if fresh
                else (await conn.execute(select(T.c.user, T.c.created_at).where(T.c.id == thread.id))).first()
            )
            if existing is None:
                if context.user is None:
                    raise ValueError("a new thread needs a user in the request context")
                created_at = _timestamp(thread)
                await conn.execute(
                    _INSERT_THREAD,
                    {
                        "id": thread.id,
                        "project_id": context.project_id,
                        "user": context.user,
                        "session_id": context.session.id if context.session else None,
                        "created_at": created_at,
                        "rest": thread_rest(thread, context.user, created_at),
                        **values,
                    },
                )
                return
            await self._require_thread(conn, thread.id, context)
            rest = thread_rest(thread, existing.user, existing.created_at)
            await conn.execute(update(T).where(T.c.id == thread.id).values(rest=rest, **values))

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        page, has_more = await self.page_threads(
            context,
            # chatkit's Store declares ``order: str``; its requests only carry "asc" or "desc".
            Window(limit=limit, order=cast(Order, order), after=after),
        )
        # As chatkit's reference store: a cursor only when there is more to read.
        return Page(
            data=[t.metadata for t in page],
            has_more=has_more,
            after=page[-1].metadata.id if has_more else None,
        )

    async def page_threads(
        self, context: RequestContext, window: Window, user: str | None = None
    ) -> tuple[list[StoredThread], bool]:
        visible = self._thread_filters(context)
        query = select(T.c.seq, T.c.data, T.c.user, T.c.created_at).where(*visible)
        if user is not None:
            query = query.where(T.c.user == user)
        async with self.db.read() as conn:
            rows, has_more = await fetch_page(conn, query, T, window, cursor_where=visible)
        return [
            StoredThread(ThreadMetadata.model_validate_json(r["data"]), r["user"], r["created_at"])
            for r in rows
        ], has_more

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        async with self.db.write() as conn:
            await self._require_thread(conn, thread_id, context)
            blob_ids = (await conn.scalars(select(A.c.id).where(A.c.thread_id == thread_id))).all()
            await conn.execute(delete(A).where(A.c.thread_id == thread_id))
            await conn.execute(delete(tables.feedback).where(tables.feedback.c.thread_id == thread_id))
            await conn.execute(delete(I).where(I.c.thread_id == thread_id))
            await conn.execute(delete(T).where(T.c.id == thread_id))
        # Bytes go after the rows are gone: a crash in between leaves an orphan
        # file, never a record pointing at nothing.
        for blob_id in blob_ids:
            await self.blobs.delete(context.project_id, blob_id)

    # -- items --------------------------------------------------------------------

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        items, has_more = await self.page_items(
            thread_id,
            context,
            # chatkit's Store declares ``order: str``; its requests only carry "asc" or "desc".
            Window(limit=limit, order=cast(Order, order), after=after),
        )
        return Page(data=items, has_more=has_more, after=items[-1].id if has_more else None)

    async def page_items(
        self,
        thread_id: str,
        context: RequestContext,
        window: Window,
        types: Iterable[str] | None = None,
    ) -> tuple[list[ThreadItem], bool]:
        """A page of a thread's items, optionally only those of the given protocol types.

        Without a cursor (how every run reads its history) this is one query.
        """
        where = visible.scope(context)
        how = plan(window)
        kinds = frozenset(types) if types is not None else None
        params = {**where.params, "thread_id": thread_id, "limit": window.limit + 1}
        if window.after is None and window.before is None:
            rows = await self.db.fetch_all(visible.first_page(where.shape, how.ascending, kinds), params)
            if not rows:
                raise NotFoundError(f"Thread {thread_id} not found")
            if rows[0][0] is None:  # the thread, with no items in the window
                rows = []
        else:
            found = await self.db.fetch_all(
                visible.cursors(where.shape), {**params, "after": window.after, "before": window.before}
            )
            if not found:
                raise NotFoundError(f"Thread {thread_id} not found")
            _, after_seq, before_seq = found[0]
            for param, cursor, seq in (
                ("after", window.after, after_seq),
                ("before", window.before, before_seq),
            ):
                if cursor is not None and seq is None:
                    raise UnknownCursor(param, cursor)
            rows = await self.db.fetch_all(
                visible.later_page(how, kinds), {**params, "after_seq": after_seq, "before_seq": before_seq}
            )
        rows, has_more = trim(rows, window, how)
        return [_items.validate_json(data) for _, data in rows], has_more

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        async with self.db.write() as conn:
            # Touching the thread through the isolation filters is also the check that
            # the caller may add to it: one statement fewer on every message.
            touched = await conn.execute(
                update(T)
                .where(T.c.id == thread_id, *self._thread_filters(context))
                .values(updated_at=clock.unix())
            )
            if touched.rowcount == 0:
                raise NotFoundError(f"Thread {thread_id} not found")
            added = await conn.execute(_ADD_ITEM[conn.dialect.name], item_row(thread_id, item))
            if added.rowcount == 0:
                raise ValueError(f"Item id {item.id} is already used in another thread")

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        row = item_row(thread_id, item)
        async with self.db.write() as conn:
            await self._require_thread(conn, thread_id, context)
            result = await conn.execute(
                update(I)
                .where(I.c.id == item.id, I.c.thread_id == thread_id)
                .values(type=row["type"], data=row["data"], rest=row["rest"])
            )
            if result.rowcount == 0:
                await conn.execute(_INSERT_ITEM, row)

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        where = visible.scope(context)
        rows = await self.db.fetch_all(
            visible.item_row(where.shape), {**where.params, "thread_id": thread_id, "item_id": item_id}
        )
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        if rows[0][0] is None:
            raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
        return _items.validate_json(rows[0][0])

    async def delete_thread_item(self, thread_id: str, item_id: str, context: RequestContext) -> None:
        """Remove an item, and the files of a removed message that nothing else in the thread uses.

        ``threads.retry_after_item`` removes every item after the one retried,
        later messages with attachments included.
        """
        async with self.db.write() as conn:
            await self._require_thread(conn, thread_id, context)
            data = await conn.scalar(select(I.c.data).where(I.c.id == item_id, I.c.thread_id == thread_id))
            await conn.execute(delete(I).where(I.c.id == item_id, I.c.thread_id == thread_id))
            attached = [a["id"] for a in json.loads(data).get("attachments") or []] if data else []
            unused = [
                attachment_id
                for attachment_id in attached
                if not await conn.scalar(
                    select(func.count())
                    .select_from(I)
                    .where(
                        I.c.thread_id == thread_id, I.c.data.contains(f'"{attachment_id}"', autoescape=True)
                    )
                )
            ]
            blob_ids: Sequence[str] = []
            if unused:
                files = select(A.c.id).where(A.c.id.in_(unused), A.c.thread_id == thread_id)
                blob_ids = (await conn.scalars(files)).all()
                await conn.execute(delete(A).where(A.c.id.in_(blob_ids)))
        # As for a thread: bytes after rows, so a crash leaves an orphan file, not a dangling record.
        for blob_id in blob_ids:
            await self.blobs.delete(context.project_id, blob_id)

    # -- attachment records (the bytes live in the blob store) ----------------------

    def _attachment_filters(self, context: RequestContext) -> list[ColumnElement[bool]]:
        """Conditions an ``attachments`` row must meet for this caller (row predicates, as above)."""
        filters = [A.c.project_id == context.project_id]
        if context.user is not None:
            filters.append(A.c.user == context.user)
        session = context.session
        if session is not None and (not session.history_enabled or session.recent_threads is not None):
            # History limits reach files too: a session sees its own uploads and
            # those of the threads it may open, not the rest of the user's past.
            filters.append(
                or_(A.c.session_id == session.id, A.c.thread_id.in_(self._visible_threads(context)))
            )
        return filters

    def _own_attachments(self, context: RequestContext) -> Select:
        return select(A.c.id).where(*self._attachment_filters(context))

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        data = attachment.model_dump_json()
        async with self.db.write() as conn:
            result = await conn.execute(
                update(A)
                .where(A.c.id == attachment.id, *self._attachment_filters(context))
                .values(data=data, thread_id=attachment.thread_id)
            )
            if result.rowcount:
                return
            if await conn.scalar(select(A.c.seq).where(A.c.id == attachment.id)) is not None:
                raise NotFoundError(f"Attachment {attachment.id} not found")
            if context.user is None:
                raise ValueError("a new attachment needs a user in the request context")
            metadata = attachment.metadata or {}
            await conn.execute(
                insert(A).values(
                    id=attachment.id,
                    project_id=context.project_id,
                    user=context.user,
                    session_id=context.session.id if context.session else None,
                    thread_id=attachment.thread_id,
                    mime_type=attachment.mime_type,
                    size=int(metadata.get("size", 0)),
                    uploaded=bool(metadata.get("uploaded", False)),
                    created_at=clock.unix(),
                    data=data,
                )
            )

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        async with self.db.read() as conn:
            data = await conn.scalar(
                select(A.c.data).where(A.c.id == attachment_id, *self._attachment_filters(context))
            )
        if data is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return _attachments.validate_json(data)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        """Idempotent, as chatkit's reference store: a record that is not there (or not the
        caller's) is silently left alone, and so are its bytes."""
        async with self.db.write() as conn:
            result = await conn.execute(
                delete(A).where(A.c.id == attachment_id, *self._attachment_filters(context))
            )
        if result.rowcount:
            await self.blobs.delete(context.project_id, attachment_id)

    async def mark_uploaded(
        self, attachment_id: str, size: int, attachment: Attachment, context: RequestContext
    ) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(A)
                .where(A.c.id == attachment_id, *self._attachment_filters(context))
                .values(uploaded=True, size=size, data=attachment.model_dump_json())
            )

    async def count_session_uploads(self, session_id: str) -> int:
        async with self.db.read() as conn:
            return (
                await conn.scalar(select(func.count()).select_from(A).where(A.c.session_id == session_id))
                or 0
            )

    # -- feedback -------------------------------------------------------------------

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], kind: str, context: RequestContext
    ) -> None:
        async with self.db.write() as conn:
            await self._require_thread(conn, thread_id, context)
            known = set(
                (
                    await conn.scalars(select(I.c.id).where(I.c.thread_id == thread_id, I.c.id.in_(item_ids)))
                ).all()
            )
            missing = [item_id for item_id in item_ids if item_id not in known]
            if missing:
                raise NotFoundError(f"Item {missing[0]} not found in thread {thread_id}")
            now = clock.unix()
            for item_id in item_ids:
                await conn.execute(
                    insert(tables.feedback).values(
                        project_id=context.project_id,
                        thread_id=thread_id,
                        item_id=item_id,
                        user=context.user or "",
                        kind=kind,
                        created_at=now,
                    )
                )
