"""A thread's own uploads, indexed into a vector store of that thread, so a long file is searched, not pasted.

A workflow that sets ``thread_uploads: {index: true}`` hands each document
attached in its chat (text, Markdown, PDF, Word, ...) to ``index``: the
thread gets a store of its own (a ``vector_stores`` row with ``thread_id``),
the attachment is attached to it as a file known by the attachment's id, and
the ingestion worker reads it from the chat's upload (``source_of``) like any
file. The agent's ``file_search`` searches that store beside its configured
ones (``chatkitd.knowledge.tool``).

The store is reachable only through its thread: the Vector stores API does
not list or open it (``stores._store_row``), a workflow's ``vector_store_ids``
cannot name it (``tool._project_stores``), and the worker reads an upload
only for the store of the thread it was attached in. Deleting the thread
(by hand or by retention) deletes the store, its chunks, vectors and the
extracted text (``forget_thread``); a removed message's files leave it too
(``forget_attachments``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chatkit.types import Attachment
from pydantic import TypeAdapter
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chatkitd import clock
from chatkitd.knowledge import tables
from chatkitd.knowledge.files import text_blob_id
from chatkitd.knowledge.ids import new_vector_store_id
from chatkitd.knowledge.index_rows import remove_chunks
from chatkitd.knowledge.requests import chunking_of
from chatkitd.store import tables as store_tables
from chatkitd.store.db import Database
from chatkitd.store.uploads import blob_id_of

S, VF, B = tables.vector_stores, tables.vector_store_files, tables.vector_store_file_batches
A = store_tables.attachments
_attachments: TypeAdapter[Attachment] = TypeAdapter(Attachment)
# How long a search waits for the thread's files still being read before it searches without them.
READY_WAIT_SECONDS = 60.0
READY_POLL_SECONDS = 0.2


async def thread_store_id(db: Database, project_id: str, thread_id: str) -> str | None:
    """The thread's store, if it has one (the first made, should two turns have raced)."""
    async with db.read() as conn:
        return await conn.scalar(
            select(S.c.id)
            .where(S.c.project_id == project_id, S.c.thread_id == thread_id)
            .order_by(S.c.seq)
            .limit(1)
        )


async def index(
    db: Database, project_id: str, thread_id: str, attachment: Attachment, wake: Callable[[], None]
) -> None:
    """Attach the upload to the thread's store (made on first use); already attached: nothing to do."""
    async with db.read() as conn:
        done = await conn.scalar(
            select(VF.c.seq)
            .join(S, S.c.id == VF.c.vector_store_id)
            .where(S.c.thread_id == thread_id, S.c.project_id == project_id, VF.c.id == attachment.id)
        )
    if done is not None:
        return
    now = clock.unix()
    async with db.write() as conn:
        store_id = await conn.scalar(
            select(S.c.id)
            .where(S.c.project_id == project_id, S.c.thread_id == thread_id)
            .order_by(S.c.seq)
            .limit(1)
        )
        if store_id is None:
            store_id = new_vector_store_id()
            await conn.execute(
                insert(S).values(
                    id=store_id,
                    project_id=project_id,
                    name=f"Uploads of thread {thread_id}",
                    created_at=now,
                    last_active_at=now,
                    thread_id=thread_id,
                )
            )
        present = await conn.scalar(
            select(VF.c.seq).where(VF.c.vector_store_id == store_id, VF.c.id == attachment.id)
        )
        if present is None:
            await conn.execute(
                insert(VF).values(
                    vector_store_id=store_id,
                    id=attachment.id,
                    project_id=project_id,
                    status="in_progress",
                    usage_bytes=0,
                    chunking=chunking_of(None).model_dump_json(),
                    created_at=now,
                    attempts=0,
                )
            )
    wake()


def indexer(
    db: Database, project_id: str, thread_id: str, wake: Callable[[], None]
) -> Callable[[Attachment], Awaitable[None]]:
    """``index`` for one run's thread, as ``AttachmentInputs`` calls it."""

    async def index_one(attachment: Attachment) -> None:
        await index(db, project_id, thread_id, attachment, wake)

    return index_one


def indexed_note(name: str, kind: str) -> str:
    return (
        f"[The user attached {name} ({kind}). It is not shown here: it is indexed for search. "
        "Call file_search to find the passages you need in it.]"
    )


@dataclass(frozen=True)
class Source:
    """What the worker reads for a file of a thread's store: the chat upload's bytes."""

    filename: str
    mime_type: str
    blob_id: str
    bytes: int


async def source_of(conn: AsyncConnection, row: Any) -> Source | None:
    """The upload behind a thread store's file row, if it is an attachment of that very thread."""
    found = (
        await conn.execute(
            select(A.c.data, A.c.size)
            .join(S, S.c.thread_id == A.c.thread_id)
            .where(
                A.c.id == row.id,
                A.c.project_id == row.project_id,
                S.c.id == row.vector_store_id,
                S.c.project_id == row.project_id,
            )
        )
    ).first()
    if found is None:
        return None
    attachment = _attachments.validate_json(found.data)
    return Source(attachment.name, attachment.mime_type or "", blob_id_of(attachment), found.size)


async def names_of(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, str]:
    """The file names of uploads among ``ids`` (hits of a thread's store are named like any file)."""
    if not ids:
        return {}
    rows = (await conn.execute(select(A.c.id, A.c.data).where(A.c.id.in_(set(ids))))).all()
    return {row.id: str(json.loads(row.data).get("name") or row.id) for row in rows}


@dataclass(frozen=True)
class Readiness:
    """How the thread's files stand when a search starts."""

    failed: list[tuple[str, str]]  # (file name, why)
    pending: list[str]  # file names still being read after the wait


async def wait_until_read(
    db: Database, store_id: str, wake: Callable[[], None], timeout: float = READY_WAIT_SECONDS
) -> Readiness:
    """Wait (bounded) for the store's files to be read, so a question asked with an upload finds it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with db.read() as conn:
            rows = (
                await conn.execute(
                    select(VF.c.id, VF.c.status, VF.c.last_error).where(VF.c.vector_store_id == store_id)
                )
            ).all()
            names = await names_of(conn, [row.id for row in rows if row.status != "completed"])
        pending = [names.get(row.id, row.id) for row in rows if row.status == "in_progress"]
        if not pending or asyncio.get_running_loop().time() >= deadline:
            failed = [
                (names.get(row.id, row.id), _reason(row.last_error)) for row in rows if row.status == "failed"
            ]
            return Readiness(failed, pending)
        wake()
        await asyncio.sleep(READY_POLL_SECONDS)


def _reason(last_error: str | None) -> str:
    if not last_error:
        return "unknown error"
    message = str(json.loads(last_error).get("message") or "unknown error")
    return message[:300]


def readiness_notes(readiness: Readiness) -> list[str]:
    """What the model is told of the thread's files that the search could not include."""
    failed, pending = readiness.failed, readiness.pending
    notes = [f"{name} could not be read ({why}), so it was not searched." for name, why in failed]
    notes += [f"{name} is still being read; search again in a moment to include it." for name in pending]
    return notes


async def forget_thread(conn: AsyncConnection, thread_id: str) -> list[str]:
    """Inside the thread's delete: its stores with their files, chunks and vectors. Returns the
    blob ids of the text extracted from its uploads, for the caller to delete after the commit."""
    store_ids = (await conn.scalars(select(S.c.id).where(S.c.thread_id == thread_id))).all()
    file_ids: list[str] = []
    for store_id in store_ids:
        file_ids += (await conn.scalars(select(VF.c.id).where(VF.c.vector_store_id == store_id))).all()
        await remove_chunks(conn, store_id, None)
        await conn.execute(delete(VF).where(VF.c.vector_store_id == store_id))
        await conn.execute(delete(B).where(B.c.vector_store_id == store_id))
        await conn.execute(delete(S).where(S.c.id == store_id))
    return [text_blob_id(file_id) for file_id in file_ids]


async def forget_attachments(
    conn: AsyncConnection, thread_id: str, attachment_ids: Sequence[str]
) -> list[str]:
    """Inside a message's delete: its uploads leave the thread's store. Returns their text blob ids."""
    if not attachment_ids:
        return []
    store_ids = (await conn.scalars(select(S.c.id).where(S.c.thread_id == thread_id))).all()
    gone: list[str] = []
    for store_id in store_ids:
        for attachment_id in attachment_ids:
            done = await conn.execute(
                delete(VF).where(VF.c.vector_store_id == store_id, VF.c.id == attachment_id)
            )
            if done.rowcount:
                await remove_chunks(conn, store_id, attachment_id)
                gone.append(text_blob_id(attachment_id))
    return gone
