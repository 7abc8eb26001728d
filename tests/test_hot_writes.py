"""The chat's hot writes (``chatkitd.store.direct``), which run on the driver, keep the store's rules.

On PostgreSQL an item's insert and its thread's touch are one statement, and a
thread's update is one statement that is also the visibility check; these
tests hold both back ends to what the SQLAlchemy writes did: a refused write
changes nothing, and only what the caller may see is written.
"""

from __future__ import annotations

import asyncio
import json
import threading

import asyncpg
import pytest
from chatkit.store import NotFoundError
from sqlalchemy import insert, select

from chatkitd import clock, ids
from chatkitd.store import tables
from tests.support import seed
from tests.support.chat import user_input

T, I = tables.threads, tables.items  # noqa: E741


async def _thread_row(store, thread_id):
    async with store.db.read() as conn:
        return (await conn.execute(select(T.c.updated_at, T.c.title).where(T.c.id == thread_id))).one()


async def _item_rows(store, item_id):
    async with store.db.read() as conn:
        return (await conn.execute(select(I.c.thread_id, I.c.data).where(I.c.id == item_id))).all()


def test_an_item_added_again_in_its_thread_is_updated(server, user):
    """chatkit adds an item twice when a run leaves a task group open: the second add updates it."""
    store = server.platform.threads

    async def scenario():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context)
        item = seed.assistant_message(store, thread, context, "first")
        await store.add_thread_item(thread.id, item, context)
        await store.add_thread_item(thread.id, item.model_copy(update={"content": []}), context)
        return await _item_rows(store, item.id), thread.id

    rows, thread_id = server.run(scenario())
    assert len(rows) == 1
    assert rows[0].thread_id == thread_id
    assert "first" not in rows[0].data


def test_an_item_id_of_another_thread_is_refused_and_changes_nothing(server, user):
    store = server.platform.threads

    async def scenario():
        context = await seed.project_context(store, "default", user)
        first = await seed.make_thread(store, context)
        second = await seed.make_thread(store, context)
        item = seed.assistant_message(store, first, context, "kept")
        await store.add_thread_item(first.id, item, context)
        before = await _thread_row(store, second.id)
        with pytest.raises(ValueError, match="already used in another thread"):
            await store.add_thread_item(second.id, item.model_copy(update={"content": []}), context)
        return before, await _thread_row(store, second.id), await _item_rows(store, item.id), first.id

    before, after, rows, first_id = server.run(scenario())
    assert after == before  # the refused add did not touch its thread
    assert [(row.thread_id, "kept" in row.data) for row in rows] == [(first_id, True)]


def test_writes_to_a_thread_the_caller_cannot_see_are_refused_and_change_nothing(server, user):
    store = server.platform.threads

    async def scenario():
        owner = await seed.project_context(store, "default", user)
        stranger = await seed.project_context(store, "default", user + "_other")
        thread = await seed.make_thread(store, owner, title="Mine")
        before = await _thread_row(store, thread.id)
        item = seed.user_message(store, thread, stranger, "intruding")
        with pytest.raises(NotFoundError):
            await store.add_thread_item(thread.id, item, stranger)
        with pytest.raises(NotFoundError):
            await store.save_thread(thread.model_copy(update={"title": "Theirs"}), stranger)
        return before, await _thread_row(store, thread.id), await _item_rows(store, item.id)

    before, after, rows = server.run(scenario())
    assert after == before
    assert after.title == "Mine"
    assert rows == []


def test_a_thread_saved_again_is_updated_with_its_owner_kept(server, client, user):
    store = server.platform.threads

    async def scenario():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context, title="Before")
        thread.title = "After"
        await store.save_thread(thread, context)
        return thread.id

    thread_id = server.run(scenario())
    got = client.beta.chatkit.threads.retrieve(thread_id)  # the REST shape, rewritten with the row
    assert (got.title, got.user) == ("After", user)


def test_a_thread_deleted_during_a_request_is_saved_again_as_before(server, client, user):
    """The request remembers its threads' owners to skip a read; a thread deleted meanwhile is
    still written back (chatkit saves the thread at the end of a run), as it always was."""
    store = server.platform.threads

    async def scenario():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context, title="Before")
        await store.delete_thread(thread.id, context)
        thread.title = "Again"
        await store.save_thread(thread, context)
        return thread.id

    thread_id = server.run(scenario())
    assert client.beta.chatkit.threads.retrieve(thread_id).title == "Again"


def test_a_direct_write_is_one_transaction_kept_whole_or_not_at_all(server):
    """``Database.write_direct()``: its statements commit together, or, if the block raises, none do."""
    db = server.platform.db
    P = tables.projects
    add = insert(P)
    names = [f"direct_{ids.new_id('x')}" for _ in range(4)]

    async def scenario():
        async with db.write_direct() as direct:
            for name in names[:2]:
                await direct.execute(add, {"id": name, "name": name, "created_at": clock.unix()})
        with pytest.raises(RuntimeError, match="changed my mind"):
            async with db.write_direct() as direct:
                for name in names[2:]:
                    await direct.execute(add, {"id": name, "name": name, "created_at": clock.unix()})
                raise RuntimeError("changed my mind")
        async with db.read() as conn:
            return set(await conn.scalars(select(P.c.name).where(P.c.name.in_(names))))

    assert server.run(scenario()) == set(names[:2])


def test_a_frame_reaches_the_client_only_once_what_it_acknowledges_is_committed(server, chat_for, user):
    """``threads.create`` on PostgreSQL holds the new thread's insert back until the user's
    message and commits both at once (``chatkitd.store.deferred``): ``thread.created`` must still
    never arrive before its thread is committed. Another connection locks ``items``, so the
    user's message cannot be written: whatever the client receives meanwhile must already be
    readable from outside; then, unlocked, the chat ends normally with both rows kept."""
    if server.platform.db.is_sqlite:
        pytest.skip("SQLite commits a new thread on its own (group commit): nothing is held back")
    dsn = server.settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    chat = chat_for(user)
    received: list[dict] = []
    finished = threading.Event()

    def read_stream() -> None:
        body = {"type": "threads.create", "params": {"input": user_input("hold me")}}
        with chat.http.stream("POST", "/v1/chatkit/conversation", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[len("data: ") :]))
        finished.set()

    async def committed_threads(ids_: list[str]) -> set[str]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch("SELECT id FROM threads WHERE id = ANY($1::text[])", ids_)
            return {row["id"] for row in rows}
        finally:
            await conn.close()

    async def scenario() -> tuple[list[dict], set[str]]:
        locker = await asyncpg.connect(dsn)
        try:
            async with locker.transaction():
                await locker.execute("LOCK TABLE items IN EXCLUSIVE MODE")
                reader = threading.Thread(target=read_stream, daemon=True)
                reader.start()
                await asyncio.sleep(1.5)  # the request is blocked on the lock by now
                early = list(received)
                created = [e["thread"]["id"] for e in early if e["type"] == "thread.created"]
                return early, await committed_threads(created)
        finally:
            await locker.close()

    early, committed = asyncio.run(scenario())
    created = [e["thread"]["id"] for e in early if e["type"] == "thread.created"]
    assert set(created) == committed, "thread.created was sent before its thread was committed"
    assert not [e for e in early if e["type"] == "thread.item.done"]  # the lock held the message back
    assert finished.wait(30), "the chat did not finish once the lock was gone"
    thread_id = next(e["thread"]["id"] for e in received if e["type"] == "thread.created")
    user_item = next(e["item"] for e in received if e["type"] == "thread.item.done")
    assert user_item["type"] == "user_message"
    assert received[-1]["type"] != "error"
    assert asyncio.run(committed_threads([thread_id])) == {thread_id}
    store = server.platform.threads
    assert server.run(_item_rows(store, user_item["id"]))[0].thread_id == thread_id
