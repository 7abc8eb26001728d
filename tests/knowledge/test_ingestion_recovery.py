"""Ingestion survives dying processes: a file is never left ``in_progress`` for ever.

Several processes may share the database, so work is claimed there with a
lease. These tests run workers and whole servers on a database of their own,
kill them mid-file, and check that another one finishes the file, that a
late finisher's work is discarded, and that a file interrupted too often fails.
"""

from __future__ import annotations

import asyncio
import io
import threading

import pytest
from sqlalchemy import select, update

from chatkitd.knowledge import tables
from chatkitd.knowledge.worker import MAX_ATTEMPTS, IngestionWorker
from tests.conftest import ADMIN_KEY
from tests.support.servers import fresh_database, start_server

VF = tables.vector_store_files


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    with fresh_database(request.param, tmp_path / "recovery.db", "chatkitd_recovery") as url:
        yield url


def _status(server, file_id: str) -> tuple[str, int]:
    async def read():
        async with server.platform.db.read() as conn:
            row = (await conn.execute(select(VF.c.status, VF.c.attempts).where(VF.c.id == file_id))).one()
            return row.status, row.attempts

    return server.run(read())


def test_a_server_killed_mid_file_leaves_it_to_the_next_one(database_url, tmp_path):
    stuck = threading.Event()
    with start_server(database_url, tmp_path, ADMIN_KEY) as first:
        worker = first.platform.knowledge.worker
        worker.lease_seconds = 1.0

        async def die_before_commit(row) -> None:  # noqa: ANN001
            stuck.set()
            await asyncio.Event().wait()  # hangs until the server goes away, as a crash would

        worker.before_commit = die_before_commit
        with first.sdk(ADMIN_KEY) as sdk:
            store = sdk.vector_stores.create(name="restart")
            attached = sdk.vector_stores.files.upload(
                vector_store_id=store.id,
                file=("a.txt", io.BytesIO(b"Survives a restart.")),
            )
        assert stuck.wait(30)
        assert _status(first, attached.id) == ("in_progress", 1)
    # A new process on the same database (and data dir) finishes the file once the lease runs out.
    with start_server(database_url, tmp_path, ADMIN_KEY) as second, second.sdk(ADMIN_KEY) as sdk:
        done = sdk.vector_stores.files.poll(attached.id, vector_store_id=store.id, poll_interval_ms=100)
        assert done.status == "completed"
        assert _status(second, attached.id) == ("completed", 2)
        assert sdk.vector_stores.search(store.id, query="restart").data[0].file_id == attached.id


def test_a_late_finisher_is_ignored_and_repeated_interruptions_fail_the_file(database_url, tmp_path):
    with start_server(database_url, tmp_path, ADMIN_KEY) as server, server.sdk(ADMIN_KEY) as sdk:
        platform = server.platform
        server.run(platform.knowledge.stop())  # this test drives the workers itself
        store = sdk.vector_stores.create(name="leases")
        attached = sdk.vector_stores.files.upload(
            vector_store_id=store.id, file=("b.txt", io.BytesIO(b"Claimed twice."))
        )

        def worker() -> IngestionWorker:
            return IngestionWorker(platform.db, platform.blobs, None, lease_seconds=0.3)

        slow, fast = worker(), worker()
        claimed = server.run(slow.claim())
        assert claimed is not None and claimed.id == attached.id
        assert server.run(fast.claim()) is None  # leased: nobody else may take it
        server.run(asyncio.sleep(0.4))
        assert server.run(fast.run_once()) is True  # the lease ran out: taken over and finished
        assert _status(server, attached.id) == ("completed", 2)
        server.run(slow.process(claimed))  # the first claimant wakes up: its work is not wanted
        assert _status(server, attached.id) == ("completed", 2)
        assert len(sdk.vector_stores.search(store.id, query="claimed").data) == 1

        # A file whose every claimant dies fails after MAX_ATTEMPTS, with the reason.
        again = sdk.vector_stores.files.upload(
            vector_store_id=store.id, file=("c.txt", io.BytesIO(b"Doomed."))
        )
        for _ in range(MAX_ATTEMPTS):
            assert server.run(worker().claim()) is not None
            server.run(asyncio.sleep(0.35))
        assert server.run(worker().claim()) is None
        failed = sdk.vector_stores.files.retrieve(again.id, vector_store_id=store.id)
        assert failed.status == "failed" and failed.last_error is not None
        assert failed.last_error.code == "server_error" and "interrupted" in failed.last_error.message


def test_two_workers_racing_claim_each_file_once(database_url, tmp_path):
    with start_server(database_url, tmp_path, ADMIN_KEY) as server, server.sdk(ADMIN_KEY) as sdk:
        platform = server.platform
        server.run(platform.knowledge.stop())
        store = sdk.vector_stores.create(name="race")
        ids = [
            sdk.vector_stores.files.upload(
                vector_store_id=store.id,
                file=(f"{i}.txt", io.BytesIO(f"doc {i}".encode())),
            ).id
            for i in range(6)
        ]

        async def race() -> list[str]:
            workers = [IngestionWorker(platform.db, platform.blobs, None) for _ in range(3)]
            claims = await asyncio.gather(*(w.claim() for w in workers for _ in range(3)))
            return [c.id for c in claims if c is not None]

        claimed = server.run(race())
        assert sorted(claimed) == sorted(ids)  # every file once, none twice

        async def release() -> None:
            async with platform.db.write() as conn:
                await conn.execute(update(VF).values(claimed_until=0))

        server.run(release())
