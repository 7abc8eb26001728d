"""ThreadStore's isolation rules for client-secret callers (user, session history).

The REST tests use admin contexts; these pin the predicates that confine a
session's user to their own threads, and to what the session's history allows.
"""

from __future__ import annotations

import uuid

import pytest
from chatkit.store import NotFoundError

from chatkitd import clock
from chatkitd.context import RequestContext
from chatkitd.store.keys import ensure_project
from chatkitd.store.paging import UnknownCursor, Window
from chatkitd.store.sessions import SessionRecord
from tests.support import seed


def session_record(project_id: str, user: str, **overrides) -> SessionRecord:
    values = dict(
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
            with pytest.raises(NotFoundError):
                await store.delete_attachment(attachment.id, other)
            with pytest.raises(NotFoundError):
                await store.save_attachment(attachment, other)
        assert store.blobs.path(owner.project_id, attachment.id).read_bytes() == b"bytes"
        await store.delete_attachment(attachment.id, owner)
        assert not store.blobs.path(owner.project_id, attachment.id).exists()
        with pytest.raises(NotFoundError):
            await store.load_attachment(attachment.id, owner)

    server.run(scenario())
