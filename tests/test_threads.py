"""GET and DELETE /v1/chatkit/threads/{id} through the official SDK."""

from __future__ import annotations

import time

import openai
import pytest
from chatkit.types import ClosedStatus, LockedStatus
from sqlalchemy import func, select

from chatkitd.store import tables
from tests.support import seed


def test_retrieve_active_thread(server, client, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        return await seed.make_thread(store, context, title="Trip to Lisbon")

    before = time.time()
    thread = server.run(make())
    got = client.beta.chatkit.threads.retrieve(thread.id)
    assert got.id == thread.id
    assert got.object == "chatkit.thread"
    assert got.title == "Trip to Lisbon"
    assert got.user == user
    assert got.status.type == "active"
    assert int(before) - 1 <= got.created_at <= time.time() + 1


@pytest.mark.parametrize(
    ("status", "kind"),
    [(LockedStatus(reason="Under review"), "locked"), (ClosedStatus(reason="Resolved"), "closed")],
)
def test_retrieve_locked_and_closed_threads_carry_reason(server, client, user, status, kind):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        return await seed.make_thread(store, context, status=status)

    got = client.beta.chatkit.threads.retrieve(server.run(make()).id)
    assert got.status.type == kind
    assert got.status.reason == status.reason
    assert got.title is None


def test_retrieve_unknown_thread_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.chatkit.threads.retrieve("cthr_nope")
    assert caught.value.param == "thread_id"
    assert "cthr_nope" in caught.value.message


def _count(server, table, **where) -> int:
    async def count():
        query = select(func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        async with server.platform.db.read() as conn:
            return await conn.scalar(query)

    return server.run(count())


def test_delete_removes_thread_items_attachments_and_bytes(server, client, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context, title="doomed")
        await seed.add_items(
            store,
            thread,
            context,
            [
                seed.user_message(store, thread, context, "hi"),
                seed.assistant_message(store, thread, context, "hello"),
                *seed.hidden_items(store, thread, context),
            ],
        )
        attachment = await seed.attach_file(store, thread, context, b"file bytes")
        return thread, attachment, context

    thread, attachment, context = server.run(make())
    blob = store.blobs.path(context.project_id, attachment.id)
    assert blob.read_bytes() == b"file bytes"
    assert _count(server, tables.items, thread_id=thread.id) == 5

    deleted = client.beta.chatkit.threads.delete(thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (
        thread.id,
        "chatkit.thread.deleted",
        True,
    )
    assert not blob.exists()
    assert _count(server, tables.threads, id=thread.id) == 0
    assert _count(server, tables.items, thread_id=thread.id) == 0
    assert _count(server, tables.attachments, id=attachment.id) == 0

    with pytest.raises(openai.NotFoundError):
        client.beta.chatkit.threads.retrieve(thread.id)
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.chatkit.threads.delete(thread.id)
    assert caught.value.param == "thread_id"


def test_delete_leaves_other_threads_alone(server, client, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        keep = await seed.make_thread(store, context, title="keep")
        drop = await seed.make_thread(store, context, title="drop")
        for thread in (keep, drop):
            await seed.add_items(store, thread, context, [seed.user_message(store, thread, context, "x")])
        kept_file = await seed.attach_file(store, keep, context, b"keep me")
        return keep, drop, kept_file, context

    keep, drop, kept_file, context = server.run(make())
    client.beta.chatkit.threads.delete(drop.id)
    assert [t.id for t in client.beta.chatkit.threads.list(user=user)] == [keep.id]
    assert len(client.beta.chatkit.threads.list_items(keep.id).data) == 1
    assert store.blobs.path(context.project_id, kept_file.id).read_bytes() == b"keep me"
