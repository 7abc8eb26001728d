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
from chatkitd.knowledge.worker import INSERT_BATCH, STAGED_PREFIX, IngestionWorker
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


def test_another_writer_gets_the_lock_while_a_big_file_is_written(sqlite_server):
    server = sqlite_server
    path = server.settings.resolved_database_url.split(":///", 1)[1]
    seen: list[int] = []
    done = threading.Event()

    def other_process() -> None:
        # What another chatkitd sharing the data dir does: take the write lock, briefly.
        other = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            while not done.is_set():
                other.execute("BEGIN IMMEDIATE")
                seen.append(other.execute("SELECT count(*) FROM knowledge_chunks").fetchone()[0])
                other.execute("COMMIT")
        finally:
            other.close()

    writer = threading.Thread(target=other_process)
    with server.sdk(ADMIN_KEY) as sdk:
        store = sdk.vector_stores.create(name="big")
        writer.start()
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
            done.set()
            writer.join(30)
        assert finished.status == "completed", finished.last_error
        total = max(seen)
        assert total > 4 * INSERT_BATCH
        # The other writer took the lock between the batches, not only before or after all of them.
        assert any(0 < count < total for count in seen), sorted(set(seen))[:10]
        assert worst < 1.0, f"the event loop stalled {worst:.2f}s while the chunks were written"
        assert staged_rows(server) == 0
        hits = sdk.vector_stores.search(store.id, query="zanzibarian").data
        assert [hit.file_id for hit in hits][:1] == [attached.id]


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

    # A process that died mid-file left staged chunks under a claim nobody holds: swept at start.
    async def orphan() -> None:
        async with platform.db.write() as conn:
            row = {"vector_store_id": STAGED_PREFIX + "dead", "file_id": "f", "position": 0, "text": "t"}
            await conn.execute(insert(C).values(**row, tokens=1))

    server.run(orphan())
    assert staged_rows(server) == 1
    server.run(worker().drop_abandoned_stages())
    assert staged_rows(server) == 0
