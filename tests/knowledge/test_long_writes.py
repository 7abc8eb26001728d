"""A big file's chunks never hold SQLite's one write lock, nor the event loop, for long.

Every process sharing a SQLite data dir shares one write lock. A file at the
token bound is some 12 000 chunks; written in one transaction, inline, they held
the lock and the server's event loop for seconds (``/healthz`` waited 4 to 6 s,
another process's writes up to 5 s, a 503 at ``LOCK_TIMEOUT``). They are written
in short transactions under a staged name and published at the end
(``chatkitd.knowledge.worker``); bulk statements run off the event loop.
"""

from __future__ import annotations

import io
import random
import sqlite3
import threading

import pytest
from sqlalchemy import func, insert, select, update

from chatkitd.knowledge import tables
from chatkitd.knowledge.index_rows import STAGED_PREFIX
from chatkitd.knowledge.worker import INSERT_BATCH, IngestionWorker
from tests.conftest import ADMIN_KEY
from tests.support.servers import start_server
from tests.test_fairness import LoopLag

C, VF = tables.knowledge_chunks, tables.vector_store_files
STATIC = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}


def document(chunks: int) -> bytes:
    """Text of about ``chunks`` chunks of 100 tokens, and a word to search for."""
    rng = random.Random(15)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 8))) for _ in range(3000)]
    text = "zanzibarian " + " ".join(rng.choices(words, k=chunks * 90))
    return text.encode()


def staged_rows(server) -> int:  # noqa: ANN001
    async def count() -> int:
        async with server.platform.db.read() as conn:
            statement = select(func.count()).where(C.c.vector_store_id.like(f"{STAGED_PREFIX}%"))
            return (await conn.execute(statement)).scalar_one()

    return server.run(count())


@pytest.fixture
def sqlite_server(tmp_path):
    with start_server(f"sqlite+aiosqlite:///{tmp_path / 'long.db'}", tmp_path, ADMIN_KEY) as server:
        yield server


class OtherProcess:
    """What another chatkitd sharing the data dir does: take the write lock, briefly, again and
    again, noting how many chunks it sees each time."""

    def __init__(self, server) -> None:  # noqa: ANN001
        self.path = server.settings.resolved_database_url.split(":///", 1)[1]
        self.seen: list[int] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        other = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            while not self._done.is_set():
                other.execute("BEGIN IMMEDIATE")
                self.seen.append(other.execute("SELECT count(*) FROM knowledge_chunks").fetchone()[0])
                other.execute("COMMIT")
        finally:
            other.close()

    def stop(self) -> list[int]:
        self._done.set()
        self._thread.join(30)
        return self.seen


def got_in_between(seen: list[int], total: int) -> bool:
    """Whether the other writer took the lock while some, not all, of ``total`` chunks were there."""
    return any(0 < count < total for count in seen)


def test_another_writer_gets_the_lock_while_a_big_file_is_written(sqlite_server):
    server = sqlite_server
    with server.sdk(ADMIN_KEY) as sdk:
        store = sdk.vector_stores.create(name="big")
        other = OtherProcess(server)
        lag = LoopLag(server.loop)
        try:
            attached = sdk.vector_stores.files.upload(
                vector_store_id=store.id,
                file=("big.txt", io.BytesIO(document(2500))),
                chunking_strategy=STATIC,
            )
            finished = sdk.vector_stores.files.poll(
                attached.id, vector_store_id=store.id, poll_interval_ms=100
            )
        finally:
            worst = lag.stop()
            seen = other.stop()
        assert finished.status == "completed", finished.last_error
        total = max(seen)
        assert total > 4 * INSERT_BATCH
        # The other writer took the lock between the batches, not only before or after all of them.
        assert got_in_between(seen, total), sorted(set(seen))[:10]
        assert worst < 1.0, f"the event loop stalled {worst:.2f}s while the chunks were written"
        assert staged_rows(server) == 0
        hits = sdk.vector_stores.search(store.id, query="zanzibarian").data
        assert [hit.file_id for hit in hits][:1] == [attached.id]


def chunks_of(server, store_id: str) -> int:  # noqa: ANN001
    async def count() -> int:
        async with server.platform.db.read() as conn:
            statement = select(func.count()).where(C.c.vector_store_id == store_id)
            return (await conn.execute(statement)).scalar_one()

    return server.run(count())


def test_deleting_a_big_store_or_file_leaves_the_lock_free_between_batches(sqlite_server):
    server = sqlite_server
    collector = server.platform.knowledge.collector
    with server.sdk(ADMIN_KEY) as sdk:
        big = sdk.files.create(file=("big.txt", document(1000)), purpose="assistants")
        kept, dropped = sdk.vector_stores.create(name="kept"), sdk.vector_stores.create(name="dropped")
        for store in (kept, dropped):
            sdk.vector_stores.files.create_and_poll(
                file_id=big.id, vector_store_id=store.id, chunking_strategy=STATIC
            )
        total = chunks_of(server, dropped.id)
        assert total > 4 * INSERT_BATCH

        # Deleting a store answers at once; its chunks go in short transactions after.
        other = OtherProcess(server)
        try:
            assert sdk.vector_stores.delete(dropped.id).deleted
            server.run(collector.wait())
        finally:
            seen = other.stop()
        assert chunks_of(server, dropped.id) == 0
        before = chunks_of(server, kept.id)
        assert got_in_between([count - before for count in seen], total), sorted(set(seen))[:10]

        # A detached file's chunks, still there a moment, are never a hit.
        assert sdk.vector_stores.search(kept.id, query="zanzibarian").data
        sdk.vector_stores.files.delete(big.id, vector_store_id=kept.id)
        assert chunks_of(server, kept.id) > 0
        assert sdk.vector_stores.search(kept.id, query="zanzibarian").data == []
        server.run(collector.wait())
        assert chunks_of(server, kept.id) == 0


def test_chunks_staged_by_a_claim_that_is_gone_are_dropped(sqlite_server):
    server = sqlite_server
    platform = server.platform
    server.run(platform.knowledge.stop())  # this test drives the workers itself
    with server.sdk(ADMIN_KEY) as sdk:
        store = sdk.vector_stores.create(name="lost")
        attached = sdk.vector_stores.files.upload(
            vector_store_id=store.id,
            file=("lost.txt", io.BytesIO(document(INSERT_BATCH))),
            chunking_strategy=STATIC,
        )

        def worker() -> IngestionWorker:
            return IngestionWorker(platform.db, platform.blobs, None)

        slow = worker()
        claimed = server.run(slow.claim())
        assert claimed is not None
        insert_batch, batches = slow._insert, []

        async def insert_then_lose_the_claim(conn, store, *args) -> None:  # noqa: ANN001, ANN002
            await insert_batch(conn, store, *args)
            batches.append(store)
            if len(batches) == 2:  # another worker takes the file over (the lease ran out)
                await conn.execute(update(VF).where(VF.c.seq == claimed.seq).values(claim_token="other"))

        slow._insert = insert_then_lose_the_claim  # type: ignore[method-assign, assignment]
        server.run(slow.process(claimed))
        assert len(batches) == 2 and all(store.startswith(STAGED_PREFIX) for store in batches)
        assert staged_rows(server) == 0, "the lost claim's staged chunks were left behind"

        async def expire() -> None:
            async with platform.db.write() as conn:
                await conn.execute(update(VF).values(claimed_until=0))

        server.run(expire())
        assert server.run(worker().run_once())
        assert sdk.vector_stores.files.retrieve(attached.id, vector_store_id=store.id).status == "completed"
        assert staged_rows(server) == 0
        searched = sdk.vector_stores.search(store.id, query="zanzibarian").data

        assert [hit.file_id for hit in searched] == [attached.id]  # once: the lost work is not there

    # A process that died mid-file left staged chunks under a claim nobody holds: swept at start...
    # ... and chunks whose store is gone, the process deleting them having stopped half-way.
    async def orphans() -> None:
        async with platform.db.write() as conn:
            for store_id in (STAGED_PREFIX + "dead", "vs_gone"):
                row = {"vector_store_id": store_id, "file_id": "f", "position": 0, "text": "t"}
                await conn.execute(insert(C).values(**row, tokens=1))

    server.run(orphans())
    assert staged_rows(server) == 1 and chunks_of(server, "vs_gone") == 1
    server.run(worker().drop_abandoned_chunks())
    assert staged_rows(server) == 0 and chunks_of(server, "vs_gone") == 0
    assert chunks_of(server, store.id) > 0  # a store's own are kept
