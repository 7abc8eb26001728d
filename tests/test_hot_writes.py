"""The chat's hot writes (``chatkitd.store.direct``), which run on the driver, keep the store's rules.

On PostgreSQL an item's insert and its thread's touch are one statement, and a
thread's update is one statement that is also the visibility check; these
tests hold both back ends to what the SQLAlchemy writes did: a refused write
changes nothing, and only what the caller may see is written.
"""

from __future__ import annotations

import pytest
from chatkit.store import NotFoundError
from sqlalchemy import insert, select

from chatkitd import clock, ids
from chatkitd.store import tables
from tests.support import seed

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
