"""ThreadStore's isolation rules for client-secret callers (user, session history).

The REST tests use admin contexts; these pin the predicates that confine a
session's user to their own threads, and to what the session's history allows.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from chatkit.store import NotFoundError

from chatkitd import clock
from chatkitd.context import RequestContext
from chatkitd.store.keys import ensure_project
from chatkitd.store.paging import UnknownCursor, Window
from chatkitd.store.sessions import SessionRecord
from tests.support import seed


def session_record(project_id: str, user: str, **overrides) -> SessionRecord:
    values: dict[str, Any] = dict(
        id=f"cksess_{uuid.uuid4().hex}",
        project_id=project_id,
        user=user,
        secret_digest=uuid.uuid4().hex,
        workflow_id="demo",
        workflow_version=None,
        resolved_version="1",
        state_variables=None,
        tracing_enabled=True,
        titling_enabled=True,
        upload_enabled=False,
        max_files=10,
        max_file_size=512,
        history_enabled=True,
        recent_threads=None,
        rate_limit=10,
        created_at=clock.unix(),
        expires_at=int(clock.unix()) + 600,
        cancelled_at=None,
    )
    values.update(overrides)
    return SessionRecord(**values)


def test_session_callers_see_only_what_their_session_allows(server, user):
    store = server.platform.threads

    async def scenario():
        project_id = await ensure_project(store.db, "default")
        admin = RequestContext(project_id=project_id)
        first = session_record(project_id, user)
        first_ctx = RequestContext.for_session(first)
        old = [await seed.make_thread(store, first_ctx, title=f"old{n}") for n in range(3)]
        other_user = RequestContext.for_session(session_record(project_id, user + "_x"))
        foreign = await seed.make_thread(store, other_user, title="foreign")

        def ids(page):
            return [t.metadata.id for t in page[0]]

        full = RequestContext.for_session(session_record(project_id, user))
        assert ids(await store.page_threads(full, Window(limit=10, order="asc"))) == [t.id for t in old]
        with pytest.raises(NotFoundError):
            await store.load_thread(foreign.id, full)
        with pytest.raises(UnknownCursor):
            await store.page_threads(full, Window(limit=10, after=foreign.id))

        recent = RequestContext.for_session(session_record(project_id, user, recent_threads=2))
        assert ids(await store.page_threads(recent, Window(limit=10, order="asc"))) == [t.id for t in old[1:]]
        with pytest.raises(NotFoundError):
            await store.load_thread(old[0].id, recent)

        isolated_record = session_record(project_id, user, history_enabled=False)
        isolated = RequestContext.for_session(isolated_record)
        assert ids(await store.page_threads(isolated, Window(limit=10))) == []
        mine = await seed.make_thread(store, isolated, title="mine")
        assert ids(await store.page_threads(isolated, Window(limit=10))) == [mine.id]
        with pytest.raises(NotFoundError):
            await store.load_thread(old[0].id, isolated)

        # The admin sees them all.
        everything = ids(await store.page_threads(admin, Window(limit=100), user=user))
        assert set(everything) == {mine.id, *(t.id for t in old)}

    server.run(scenario())


def test_history_limits_reach_attachments(server, user):
    store = server.platform.threads

    async def scenario():
        project_id = await ensure_project(store.db, "default")
        earlier = RequestContext.for_session(session_record(project_id, user))
        old_thread = await seed.make_thread(store, earlier, title="old")
        old_file = await seed.attach_file(store, old_thread, earlier, b"old bytes")
        newer_threads = [await seed.make_thread(store, earlier) for _ in range(2)]

        isolated = RequestContext.for_session(session_record(project_id, user, history_enabled=False))
        recent = RequestContext.for_session(session_record(project_id, user, recent_threads=2))
        for context in (isolated, recent):
            # Outside what the session may open: as if it did not exist.
            with pytest.raises(NotFoundError):
                await store.load_attachment(old_file.id, context)
            # Deleting is idempotent (silent, as chatkit's reference), and touches nothing.
            await store.delete_attachment(old_file.id, context)
        assert store.blobs.path(project_id, old_file.id).read_bytes() == b"old bytes"

        # A session's own uploads, and files of threads it may open, stay reachable.
        mine = await seed.attach_file(store, newer_threads[-1], isolated, b"mine")
        assert (await store.load_attachment(mine.id, isolated)).id == mine.id
        in_recent = await seed.attach_file(store, newer_threads[0], earlier, b"recent")
        assert (await store.load_attachment(in_recent.id, recent)).id == in_recent.id
        assert (await store.load_attachment(old_file.id, earlier)).id == old_file.id

    server.run(scenario())


def test_attachment_records_belong_to_their_user_and_project(server, user):
    store = server.platform.threads

    async def scenario():
        owner = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, owner)
        attachment = await seed.attach_file(store, thread, owner, b"bytes")
        assert (await store.load_attachment(attachment.id, owner)).name == "notes.txt"
        # The project's admin sees it; another user or another project does not.
        admin = RequestContext(project_id=owner.project_id)
        assert (await store.load_attachment(attachment.id, admin)).id == attachment.id
        stranger = await seed.project_context(store, "default", user + "_x")
        elsewhere = await seed.project_context(store, f"p_{uuid.uuid4().hex[:6]}", user)
        for other in (stranger, elsewhere):
            with pytest.raises(NotFoundError):
                await store.load_attachment(attachment.id, other)
            await store.delete_attachment(attachment.id, other)  # silent, and deletes nothing
            with pytest.raises(NotFoundError):
                await store.save_attachment(attachment, other)
        assert store.blobs.path(owner.project_id, attachment.id).read_bytes() == b"bytes"
        assert (await store.load_attachment(attachment.id, owner)).id == attachment.id
        await store.delete_attachment(attachment.id, owner)
        assert not store.blobs.path(owner.project_id, attachment.id).exists()
        with pytest.raises(NotFoundError):
            await store.load_attachment(attachment.id, owner)
        await store.delete_attachment(attachment.id, owner)  # again: idempotent

    server.run(scenario())


def test_item_reads_and_writes_follow_the_same_rules(server, user):
    """load_thread_items, load_item and add_thread_item, under every shape of isolation.

    These run as statements cached per shape with bind parameters: each shape
    must confine exactly as ``load_thread`` does, cursors included.
    """
    store = server.platform.threads

    async def scenario():
        project_id = await ensure_project(store.db, "default")
        owner = RequestContext.for_session(session_record(project_id, user))
        old = await seed.make_thread(store, owner, title="old")
        newer = await seed.make_thread(store, owner, title="newer")
        items = []
        for n in range(3):
            item = seed.user_message(store, old, owner, f"m{n}")
            await store.add_thread_item(old.id, item, owner)
            items.append(item)
        empty = await seed.make_thread(store, owner, title="empty")

        page = await store.load_thread_items(old.id, None, 10, "asc", owner)
        assert [i.id for i in page.data] == [i.id for i in items] and not page.has_more
        page = await store.load_thread_items(old.id, None, 2, "desc", owner)
        assert [i.id for i in page.data] == [items[2].id, items[1].id] and page.has_more
        page = await store.load_thread_items(old.id, items[2].id, 10, "desc", owner)
        assert [i.id for i in page.data] == [items[1].id, items[0].id]
        rows, more = await store.page_items(old.id, owner, Window(limit=1, order="asc", before=items[2].id))
        assert [i.id for i in rows] == [items[1].id] and more
        assert (await store.load_thread_items(empty.id, None, 10, "desc", owner)).data == []
        for types, expected in (
            (["user_message"], 3),
            (["widget", "user_message"], 3),
            (["widget"], 0),
            ([], 0),
        ):
            rows, _ = await store.page_items(old.id, owner, Window(limit=10), types=types)
            assert len(rows) == expected, types
        assert (await store.load_item(old.id, items[1].id, owner)).id == items[1].id
        with pytest.raises(NotFoundError):
            await store.load_item(old.id, "cthi_missing", owner)
        with pytest.raises(UnknownCursor):
            await store.load_thread_items(old.id, "cthi_missing", 10, "desc", owner)
        stray = seed.user_message(store, newer, owner, "elsewhere")
        await store.add_thread_item(newer.id, stray, owner)
        with pytest.raises(UnknownCursor):  # an item of another thread is no cursor here
            await store.load_thread_items(old.id, stray.id, 10, "desc", owner)
        with pytest.raises(NotFoundError):  # nor is it an item of this thread
            await store.load_item(old.id, stray.id, owner)

        other_project = await ensure_project(store.db, f"p_{uuid.uuid4().hex[:6]}")
        refused = {
            "other user": RequestContext.for_session(session_record(project_id, user + "_x")),
            "other project": RequestContext(project_id=other_project),
            "recent 2": RequestContext.for_session(session_record(project_id, user, recent_threads=2)),
            "history off": RequestContext.for_session(
                session_record(project_id, user, history_enabled=False)
            ),
        }
        for name, context in refused.items():
            with pytest.raises(NotFoundError):
                await store.load_thread_items(old.id, None, 10, "desc", context)
            with pytest.raises(NotFoundError):  # not an unknown cursor: the thread comes first
                await store.load_thread_items(old.id, "cthi_missing", 10, "desc", context)
            with pytest.raises(NotFoundError):
                await store.load_item(old.id, items[0].id, context)
            with pytest.raises(NotFoundError):
                await store.add_thread_item(old.id, seed.user_message(store, old, context, name), context)
        assert len((await store.load_thread_items(old.id, None, 10, "asc", owner)).data) == 3

        # The shapes that do allow the thread read the same items.
        allowed = {
            "admin": RequestContext(project_id=project_id),
            "recent 3": RequestContext.for_session(session_record(project_id, user, recent_threads=3)),
        }
        for context in allowed.values():
            page = await store.load_thread_items(old.id, items[0].id, 10, "asc", context)
            assert [i.id for i in page.data] == [items[1].id, items[2].id]
            assert (await store.load_item(old.id, items[0].id, context)).id == items[0].id

    server.run(scenario())
