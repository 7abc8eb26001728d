"""The database's change count, which the REST response cache trusts to replay nothing stale.

``Database.change_count()`` must move for every commit that changes what a
REST read returns, from any process, and a call must count every commit
acknowledged before it was made. On PostgreSQL one read of the counters serves
all the callers waiting (``chatkitd.store.postgres.ChangeCount``): these tests
pin down that it never answers a caller with a read begun before it asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from chatkitd.blobs import FileBlobStore
from chatkitd.rest.sessions import SessionCreateBody, create_session
from chatkitd.settings import Settings
from chatkitd.store import keys, migrate, sessions
from chatkitd.store.db import Database
from chatkitd.store.postgres import ChangeCount
from chatkitd.store.threads import ThreadStore
from chatkitd.workflows.registry import WorkflowRegistry
from tests.support import seed
from tests.support.servers import fresh_database


def test_a_caller_is_answered_by_a_read_begun_after_it_asked():
    async def scenario() -> tuple[int | None, int | None, int]:
        committed = 0
        reads = 0
        release = asyncio.Event()

        async def read() -> int:
            nonlocal reads
            reads += 1
            seen = committed  # the read's snapshot is taken as it starts
            await release.wait()
            return seen

        count = ChangeCount(read)
        early = asyncio.create_task(count())
        while reads == 0:
            await asyncio.sleep(0)  # until its read is under way, having seen 0
        committed = 1  # a write commits and is acknowledged...
        late = asyncio.create_task(count())  # ...then another request asks
        await asyncio.sleep(0)
        release.set()
        return await early, await late, reads

    early, late, reads = asyncio.run(scenario())
    assert early == 0
    assert late == 1, "a caller was answered by a read that began before it asked"
    assert reads == 2


def test_callers_who_wait_together_share_one_read():
    async def scenario() -> tuple[list[int | None], int]:
        reads = 0

        async def read() -> int:
            nonlocal reads
            reads += 1
            await asyncio.sleep(0.01)
            return 7

        count = ChangeCount(read)
        first = asyncio.create_task(count())
        await asyncio.sleep(0)
        answers = await asyncio.gather(first, *(count() for _ in range(50)))
        return answers, reads

    answers, reads = asyncio.run(scenario())
    assert answers == [7] * 51
    assert reads == 2  # the first caller's, and one for the fifty who came during it


def test_a_failed_read_answers_none_and_a_caller_who_leaves_harms_no_one():
    async def scenario() -> tuple[int | None, int | None, int | None]:
        outcomes: Iterator[Exception | int] = iter([RuntimeError("database down"), 3, 4])

        async def read() -> int:
            await asyncio.sleep(0.01)
            outcome = next(outcomes)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        count = ChangeCount(read)
        failed = await count()
        leaving = asyncio.create_task(count())
        staying = asyncio.create_task(count())
        await asyncio.sleep(0)
        leaving.cancel()
        return failed, await staying, await count()

    failed, staying, later = asyncio.run(scenario())
    assert failed is None  # no number: the caller reads the data itself
    assert staying == 3  # the read went on for the caller who stayed
    assert later == 4


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path / "db.sqlite", "chatkitd_changes") as url:
        yield url


def test_the_count_moves_with_what_rest_reads_show_and_not_with_chat_admissions(database_url, tmp_path):
    async def scenario() -> dict[str, bool]:
        db = Database(database_url)
        other = Database(database_url)  # another process, in effect: its own connections
        try:
            await migrate.upgrade(db)
            store = ThreadStore(other, FileBlobStore(tmp_path / "blobs"))
            context = await seed.project_context(store, "default", "user_count")
            moved: dict[str, bool] = {}

            async def moves(name: str, write) -> None:  # noqa: ANN001
                before = await db.change_count()
                await write()
                moved[name] = await db.change_count() != before

            thread = await seed.make_thread(store, context, title="Counted")
            await moves("new thread", lambda: seed.make_thread(store, context, title="Another"))
            await moves("renamed thread", lambda: store.save_thread(thread, context))
            message = seed.user_message(store, thread, context, "hi")
            await moves("new item", lambda: store.add_thread_item(thread.id, message, context))
            await moves("deleted thread", lambda: store.delete_thread(thread.id, context))
            _, record = await keys.create_key(other, "default", name="counted")
            await moves("revoked key", lambda: keys.revoke_key(other, record.id))
            body = SessionCreateBody.model_validate({"user": "user_count", "workflow": {"id": "demo"}})
            registry = WorkflowRegistry(other, Settings())
            session, _ = await create_session(other, registry, context.project_id, body)
            admit = sessions.admit_request
            await moves("chat admission", lambda: admit(other, session.secret_digest))
            return moved
        finally:
            await other.dispose()
            await db.dispose()

    moved = asyncio.run(scenario())
    assert all(moved[name] for name in ("new thread", "renamed thread", "new item", "deleted thread")), moved
    assert moved["revoked key"], moved
    # Only what REST reads could show counts: a chat request's admission is not such a change.
    assert not moved["chat admission"], moved
