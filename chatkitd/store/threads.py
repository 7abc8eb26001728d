"""Threads, items and attachment records: ``openai-chatkit``'s ``Store`` on SQL.

Both faces of chatkitd use this one class: ``ChatKitServer`` through the
``Store`` methods, the REST API through ``page_threads`` and ``page_items``.
Items are kept in the protocol's own model (``chatkit.types``) as JSON, with
the columns needed to page and filter beside them.

Every query is confined to what the caller may see: the rule is
``chatkitd.store.tenancy``, and the reads and visibility checks are statements
built on it once per shape (``chatkitd.store.visible``), run with the
context's values (``tenancy.scope``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from chatkit.store import NotFoundError, Store, StoreItemType
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata
from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from chatkitd import clock, ids
from chatkitd.blobs import BlobStore
from chatkitd.context import RequestContext
from chatkitd.knowledge import thread_uploads
from chatkitd.store import tables, visible
from chatkitd.store.db import Database
from chatkitd.store.deferred import DeferredThread, defer, deferred_thread, frames_held, settle
from chatkitd.store.paging import Order, Window, check_cursors, plan, read_page
from chatkitd.store.projection import item_rest, thread_rest
from chatkitd.store.tenancy import scope, visible_attachments

_items = TypeAdapter(ThreadItem)
_attachments = TypeAdapter(Attachment)

T, I, A = tables.threads, tables.items, tables.attachments  # noqa: E741
# Built once and given each row as parameters: ``.values(**row)`` would coerce
# every column into a new statement on each call, which costs more than the insert.
_INSERT_THREAD, _INSERT_ITEM = insert(T), insert(I)
# A held-back new thread (``deferred``, PostgreSQL only): its id was minted for it, so an insert
# already there can only be its own whose acknowledgement was lost (a cancelled commit).
_INSERT_HELD_THREAD = postgresql_dialect.insert(T).on_conflict_do_nothing(index_elements=[T.c.id])
# Updates name their SET columns by the parameters they are given.
_THREAD_OWNER = select(T.c.user, T.c.created_at).where(T.c.id == bindparam("thread_id"))
_UPDATE_ITEM = update(I).where(I.c.id == bindparam("item_id"), I.c.thread_id == bindparam("in_thread"))
_FRESH_THREAD = "chatkitd.fresh_thread_id"  # in RequestContext.extras
# Threads this request created or loaded, by id: their (user, created_at), which never change.
_OWNERS = "chatkitd.thread_owners"  # in RequestContext.extras
# Where an attachment's bytes are: the upload's own blob, or (before there was one) its id.
_BLOB = func.coalesce(A.c.blob_id, A.c.id)


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
_THREAD_COLUMNS = ("id", "project_id", "user", "session_id", "created_at", "rest", "data", "title", "status")
_ITEM_COLUMNS = ("id", "thread_id", "type", "created_at", "data", "rest")


def _thread_with_first_item() -> Any:
    """PostgreSQL: a new thread (``thread_*``) and its first item (``item_*``) in one statement.

    A held-back thread carried by the user's message (``deferred``): one round
    trip and one commit. The thread is the request's own, so the item's
    tenancy check is its insert; it answers the item's id when the item went in
    (as ``_add_item``, an id of another thread is left alone).
    """
    thread = (
        postgresql_dialect.insert(T)
        .values({name: bindparam(f"thread_{name}") for name in (*_THREAD_COLUMNS, "updated_at")})
        .on_conflict_do_nothing(index_elements=[T.c.id])
        .cte("new_thread")
    )
    item = _add_item(postgresql_dialect).values({name: bindparam(f"item_{name}") for name in _ITEM_COLUMNS})
    return item.returning(I.c.id).add_cte(thread)


_THREAD_WITH_FIRST_ITEM = _thread_with_first_item()


def _owners(context: RequestContext) -> dict[str, tuple[str, float]]:
    return cast(dict[str, tuple[str, float]], context.extras.setdefault(_OWNERS, {}))


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
    def __init__(self, db: Database, blobs: BlobStore) -> None:
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

    async def _require_thread(self, conn: AsyncConnection, thread_id: str, context: RequestContext) -> None:
        """Inside a write: a NotFoundError unless the caller may touch the thread."""
        where = scope(context)
        found = await conn.scalar(visible.thread_seq(where.shape), {**where.params, "thread_id": thread_id})
        if found is None:
            raise NotFoundError(f"Thread {thread_id} not found")

    # -- threads ------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        return (await self.get_thread(thread_id, context)).metadata

    async def get_thread(self, thread_id: str, context: RequestContext) -> StoredThread:
        await settle(context)  # the request's held writes first (``deferred``)
        where = scope(context)
        rows = await self.db.fetch_all(
            visible.thread_row(where.shape), {**where.params, "thread_id": thread_id}
        )
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        data, user, created_at = rows[0]
        _owners(context)[thread_id] = (user, created_at)
        return StoredThread(ThreadMetadata.model_validate_json(data), user, created_at)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        values = {
            "data": _metadata_json(thread),
            "title": thread.title,
            "status": thread.status.type,
            "updated_at": clock.unix(),
        }
        await settle(context)
        fresh = context.extras.get(_FRESH_THREAD) == thread.id
        if fresh:
            del context.extras[_FRESH_THREAD]
        known = None if fresh else _owners(context).get(thread.id)
        if known is not None:
            # Its owner is known: the update alone, which is also the visibility check.
            if await self._update_thread(thread, known, values, context):
                return
        existing = None if fresh else await self.db.fetch_all(_THREAD_OWNER, {"thread_id": thread.id})
        if not existing:
            if context.user is None:
                raise ValueError("a new thread needs a user in the request context")
            created_at = _timestamp(thread)
            row = {
                "id": thread.id,
                "project_id": context.project_id,
                "user": context.user,
                "session_id": context.session.id if context.session else None,
                "created_at": created_at,
                "rest": thread_rest(thread, context.user, created_at),
                **values,
            }
            _owners(context)[thread.id] = (context.user, created_at)
            if fresh and frames_held(context) and not self.db.is_sqlite:
                # Committed with the user's message, before any frame is sent (``deferred``).
                defer(context, DeferredThread(self.db, thread.id, _INSERT_HELD_THREAD, row))
                return
            async with self.db.write_direct(single=True) as direct:
                await direct.execute(_INSERT_THREAD, row)
            return
        [(user, created_at)] = existing
        if not await self._update_thread(thread, (user, created_at), values, context):
            raise NotFoundError(f"Thread {thread.id} not found")

    async def _update_thread(
        self,
        thread: ThreadMetadata,
        owner: tuple[str, float],
        values: dict[str, Any],
        context: RequestContext,
    ) -> bool:
        """Update a thread the caller sees (the statement is also the check); False if none."""
        where = scope(context)
        rest = thread_rest(thread, *owner)
        update = {**where.params, "thread_id": thread.id, "rest": rest, **values}
        async with self.db.write_direct(single=True) as direct:
            return await direct.execute(visible.update_thread(where.shape), update) > 0

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
        """A page of the threads the caller sees (only ``user``'s, when given)."""
        await settle(context)  # the request's held writes first (``deferred``)
        where = scope(context)
        statement = visible.threads_page(where.shape, plan(window), by_user=user is not None)
        rows, has_more = await read_page(self.db, statement, window, {**where.params, "filter_user": user})
        if not rows:
            await check_cursors(self.db, visible.thread_cursor(where.shape), window, where.params)
        return [
            StoredThread(ThreadMetadata.model_validate_json(data), owner, created_at)
            for data, owner, created_at in rows
        ], has_more

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        await settle(context)  # the request's held writes first (``deferred``)
        async with self.db.write() as conn:
            await self._require_thread(conn, thread_id, context)
            blob_ids = (await conn.scalars(select(_BLOB).where(A.c.thread_id == thread_id))).all()
            await conn.execute(delete(A).where(A.c.thread_id == thread_id))
            await conn.execute(delete(tables.feedback).where(tables.feedback.c.thread_id == thread_id))
            # Everything else kept about the thread goes with it: paused runs, graph state and
            # the traces that quote its messages. A deleted thread leaves nothing readable.
            for owned in (tables.approvals, tables.approval_pauses, tables.graph_threads):
                await conn.execute(delete(owned).where(owned.c.thread_id == thread_id))
            traced = select(tables.traces.c.id).where(tables.traces.c.thread_id == thread_id)
            await conn.execute(delete(tables.spans).where(tables.spans.c.trace_id.in_(traced)))
            await conn.execute(delete(tables.traces).where(tables.traces.c.thread_id == thread_id))
            # Its uploads' search index too (a workflow with `thread_uploads: {index: true}`).
            blob_ids = [*blob_ids, *await thread_uploads.forget_thread(conn, thread_id)]
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

        One statement (how every run reads its history); the thread and the
        cursors are looked at on their own only when the page comes back empty.
        """
        await settle(context)  # the request's held writes first (``deferred``)
        where = scope(context)
        kinds = frozenset(types) if types is not None else None
        params = {**where.params, "thread_id": thread_id}
        statement = visible.items_page(where.shape, plan(window), types=kinds)
        rows, has_more = await read_page(self.db, statement, window, params)
        if not rows:
            if not await self.db.fetch_all(visible.thread_seq(where.shape), params):
                raise NotFoundError(f"Thread {thread_id} not found")
            await check_cursors(self.db, visible.ITEM_CURSOR, window, params)
        return [_items.validate_json(data) for (data,) in rows], has_more

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        where = scope(context)
        touch = {**where.params, "thread_id": thread_id, "touched_at": clock.unix()}
        row = item_row(thread_id, item)
        # Touching the thread as the caller sees it is also the check that the
        # caller may add to it: one statement fewer on every message.
        if self.db.is_sqlite:  # statements inline, under the write lock
            async with self.db.write_direct() as direct:
                touched = await direct.execute(visible.touch_thread(where.shape), touch)
                if touched == 0:
                    raise NotFoundError(f"Thread {thread_id} not found")
                if await direct.execute(_ADD_ITEM["sqlite"], row) == 0:
                    raise ValueError(f"Item id {item.id} is already used in another thread")
            return
        # On PostgreSQL the same in one statement, its own transaction: one round trip.
        new = {f"item_{name}": value for name, value in row.items() if name != "thread_id"}
        statement, params = visible.add_item_touching_thread(where.shape), {**touch, **new}
        held = deferred_thread(context)
        if held is not None and held.thread_id != thread_id:
            await settle(context)
            held = None
        if held is None:
            async with self.db.write_direct(single=True) as direct:
                [(visible_thread, added)] = await direct.fetch(statement, params)
        else:
            # The thread this request created and has not committed yet: one statement for both.
            async with held.carried() as carrying:
                async with self.db.write_direct(single=True) as direct:
                    if carrying:
                        both = {f"thread_{name}": held.row[name] for name in _THREAD_COLUMNS}
                        both |= {f"item_{name}": value for name, value in row.items()}
                        both["thread_updated_at"] = touch["touched_at"]
                        visible_thread, added = True, bool(await direct.fetch(_THREAD_WITH_FIRST_ITEM, both))
                    else:
                        [(visible_thread, added)] = await direct.fetch(statement, params)
        if not visible_thread:
            raise NotFoundError(f"Thread {thread_id} not found")
        if not added:
            raise ValueError(f"Item id {item.id} is already used in another thread")

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        await settle(context)  # the request's held writes first (``deferred``)
        row = item_row(thread_id, item)
        async with self.db.write() as conn:
            await self._require_thread(conn, thread_id, context)
            result = await conn.execute(
                _UPDATE_ITEM,
                {
                    "item_id": item.id,
                    "in_thread": thread_id,
                    "type": row["type"],
                    "data": row["data"],
                    "rest": row["rest"],
                },
            )
            if result.rowcount == 0:
                await conn.execute(_INSERT_ITEM, row)

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        await settle(context)  # the request's held writes first (``deferred``)
        where = scope(context)
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
        await settle(context)  # the request's held writes first (``deferred``)
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
                files = select(A.c.id, _BLOB).where(A.c.id.in_(unused), A.c.thread_id == thread_id)
                found = (await conn.execute(files)).all()
                blob_ids = [blob for _, blob in found]
                await conn.execute(delete(A).where(A.c.id.in_([attachment for attachment, _ in found])))
                gone = [attachment for attachment, _ in found]
                blob_ids = [*blob_ids, *await thread_uploads.forget_attachments(conn, thread_id, gone)]
        # As for a thread: bytes after rows, so a crash leaves an orphan file, not a dangling record.
        for blob_id in blob_ids:
            await self.blobs.delete(context.project_id, blob_id)

    # -- attachment records (the bytes live in the blob store) ----------------------

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        await settle(context)  # the request's held writes first (``deferred``)
        data = attachment.model_dump_json()
        where = scope(context)
        async with self.db.write() as conn:
            result = await conn.execute(
                update(A)
                .where(A.c.id == attachment.id, *visible_attachments(where.shape))
                .values(data=data, thread_id=attachment.thread_id),
                where.params,
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
        where = scope(context)
        async with self.db.read() as conn:
            data = await conn.scalar(
                select(A.c.data).where(A.c.id == attachment_id, *visible_attachments(where.shape)),
                where.params,
            )
        if data is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return _attachments.validate_json(data)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        """Idempotent, as chatkit's reference store: a record that is not there (or not the
        caller's) is silently left alone, and so are its bytes."""
        where = scope(context)
        async with self.db.write() as conn:
            mine = (A.c.id == attachment_id, *visible_attachments(where.shape))
            blob_id = await conn.scalar(select(_BLOB).where(*mine), where.params)
            await conn.execute(delete(A).where(*mine), where.params)
        if blob_id is not None:
            await self.blobs.delete(context.project_id, blob_id)

    # -- uploads: the session's max_files, and one upload per attachment -------------------

    async def reserve_attachment(
        self,
        attachment: Attachment,
        context: RequestContext,
        max_files: int,
        *,
        direct_lease_seconds: float | None = None,
    ) -> bool:
        """Record a not-yet-uploaded attachment if the session has a file left; False if not.

        Counting and inserting are one transaction that holds the session's row
        (``FOR UPDATE`` on PostgreSQL; SQLite's write lock is the database's), so
        parallel requests, in this process or another, never pass the limit together.

        With ``direct_lease_seconds`` the record is a direct upload's, under way at once: it names
        its blob (the attachment's id) and holds a lease its writer renews
        (``renew_upload``). The session's direct uploads whose lease lapsed (their server died
        mid-upload) are dropped first, so a crash does not use up one of its files.
        """
        session = context.session
        if session is None or context.user is None:
            raise ValueError("an upload needs a session and a user in the request context")
        S = tables.sessions
        now = clock.unix()
        lapsed: list[tuple[str, str]] = []
        async with self.db.write() as conn:
            await conn.execute(select(S.c.id).where(S.c.id == session.id).with_for_update())
            if direct_lease_seconds is not None:
                lapsed = await _drop_lapsed_direct_uploads(
                    conn, now - direct_lease_seconds, A.c.session_id == session.id
                )
            used = await conn.scalar(select(func.count()).select_from(A).where(A.c.session_id == session.id))
            if (used or 0) >= max_files:
                reserved = False
            else:
                direct = direct_lease_seconds is not None
                await conn.execute(
                    insert(A).values(
                        id=attachment.id,
                        project_id=context.project_id,
                        user=context.user,
                        session_id=session.id,
                        thread_id=attachment.thread_id,
                        mime_type=attachment.mime_type,
                        size=int((attachment.metadata or {}).get("size", 0)),
                        uploaded=False,
                        created_at=now,
                        data=attachment.model_dump_json(),
                        blob_id=attachment.id if direct else None,
                        upload_started_at=now if direct else None,
                    )
                )
                reserved = True
        await self._delete_blobs(lapsed)
        return reserved

    async def sweep_lapsed_uploads(self, lease_seconds: float) -> int:
        """Drop every direct upload whose lease lapsed (its server died mid-upload), with any bytes
        it stored; how many went. Run at start and now and then."""
        async with self.db.write() as conn:
            lapsed = await _drop_lapsed_direct_uploads(conn, clock.unix() - lease_seconds)
        await self._delete_blobs(lapsed)
        return len(lapsed)

    async def _delete_blobs(self, blobs: list[tuple[str, str]]) -> None:
        for project_id, blob_id in blobs:
            await self.blobs.delete(project_id, blob_id)

    async def begin_upload(self, attachment_id: str, lease_seconds: float) -> bool:
        """Claim the attachment's upload; False while another one is under way or done.

        The claim is a lease its writer renews (``renew_upload``); it lapses when its server died,
        and then the upload can be retried. ``finish_upload`` still lets only one upload be
        recorded.
        """
        now = clock.unix()
        async with self.db.write() as conn:
            claimed = await conn.execute(
                update(A)
                .where(
                    A.c.id == attachment_id,
                    A.c.uploaded.is_(False),
                    or_(A.c.upload_started_at.is_(None), A.c.upload_started_at < now - lease_seconds),
                )
                .values(upload_started_at=now)
            )
        return bool(claimed.rowcount)

    async def renew_upload(self, attachment_id: str) -> None:
        """The upload of ``attachment_id`` is still under way: its lease starts again."""
        async with self.db.write() as conn:
            await conn.execute(
                update(A)
                .where(A.c.id == attachment_id, A.c.uploaded.is_(False), A.c.upload_started_at.is_not(None))
                .values(upload_started_at=clock.unix())
            )

    async def abandon_upload(self, attachment_id: str) -> None:
        """An upload failed: the attachment may be uploaded again."""
        async with self.db.write() as conn:
            await conn.execute(
                update(A)
                .where(A.c.id == attachment_id, A.c.uploaded.is_(False))
                .values(upload_started_at=None)
            )

    async def finish_upload(self, attachment: Attachment, blob_id: str, size: int) -> bool:
        """Record the bytes at ``blob_id`` as the attachment's; False if another upload was first
        (or, for a direct upload, its record was dropped as its lease had lapsed)."""
        async with self.db.write() as conn:
            done = await conn.execute(
                update(A)
                .where(A.c.id == attachment.id, A.c.uploaded.is_(False))
                .values(
                    uploaded=True,
                    size=size,
                    blob_id=blob_id,
                    upload_started_at=None,
                    mime_type=attachment.mime_type,
                    data=attachment.model_dump_json(),
                )
            )
        return bool(done.rowcount)

    async def release_reservation(self, attachment_id: str) -> None:
        """A direct upload that failed gives its file back to the session."""
        async with self.db.write() as conn:
            await conn.execute(delete(A).where(A.c.id == attachment_id, A.c.uploaded.is_(False)))

    # -- feedback -------------------------------------------------------------------

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], kind: str, context: RequestContext
    ) -> None:
        # An id listed twice is feedback given once; the request's list is already bounded
        # (``chatkitd.rest.json_input``), and the rows go in one statement.
        unique = list(dict.fromkeys(item_ids))
        async with self.db.write() as conn:
            await self._require_thread(conn, thread_id, context)
            known = set(
                (
                    await conn.scalars(select(I.c.id).where(I.c.thread_id == thread_id, I.c.id.in_(unique)))
                ).all()
            )
            missing = [item_id for item_id in unique if item_id not in known]
            if missing:
                raise NotFoundError(f"Item {missing[0]} not found in thread {thread_id}")
            now = clock.unix()
            await conn.execute(
                insert(tables.feedback),
                [
                    {
                        "project_id": context.project_id,
                        "thread_id": thread_id,
                        "item_id": item_id,
                        "user": context.user or "",
                        "kind": kind,
                        "created_at": now,
                    }
                    for item_id in unique
                ],
            )


async def _drop_lapsed_direct_uploads(
    conn: AsyncConnection, lapsed_before: float, *where: ColumnElement[bool]
) -> list[tuple[str, str]]:
    """Delete direct uploads under way whose lease was last renewed before ``lapsed_before``;
    their (project, blob). A direct upload's record is the only unfinished one naming its blob."""
    lapsed = (
        A.c.uploaded.is_(False),
        A.c.blob_id.is_not(None),
        A.c.upload_started_at < lapsed_before,
        *where,
    )
    dropped = await conn.execute(delete(A).where(*lapsed).returning(A.c.project_id, A.c.blob_id))
    return [(project_id, blob_id) for project_id, blob_id in dropped.all()]
