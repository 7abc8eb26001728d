"""Removing indexed rows: a file's chunks and vectors in one store, in every store, or a whole store's.

One place for it, so deleting a file (``files``), detaching it or deleting a
store (``stores``) leave nothing behind the same way.

A big store is hundreds of thousands of chunks, each with its full-text entry
to take out: deleted in the transaction that deletes the store, they held
SQLite's one write lock (every process's) for seconds per file. Through the
Files and Vector stores APIs that transaction deletes only the rows that own
them (``orphan``), and a ``Collector`` then deletes the chunks in short
transactions of ``BATCH``, in the background, leaving the lock free between
them. Meanwhile no search returns them (a hit needs its file in the store,
``chatkitd.knowledge.search``), and chunks the file gets if it is attached
again are newer than ``Orphaned.below``. A process that stops before it is done
leaves orphans that the next ingestion worker to start removes
(``orphaned_seqs``). A thread's own store goes with its thread, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from chatkitd.knowledge import tables
from chatkitd.store.db import Database

logger = logging.getLogger(__name__)

C, V, VF = tables.knowledge_chunks, tables.knowledge_vectors, tables.vector_store_files
BATCH = 500
# Seconds between two batches: another process waiting for SQLite's write lock polls for it
# (its busy handler sleeps up to 100 ms between tries), so it is left free long enough to get it.
GAP = 0.11
# The name chunks are written under until their file is complete (``chatkitd.knowledge.worker``).
STAGED_PREFIX = "~staged:"


@dataclass(frozen=True)
class Orphaned:
    """Chunks whose owner rows are deleted: a store's, a file's in one store, or a file's."""

    store_id: str | None
    file_id: str | None
    below: int  # chunks from this seq on are not theirs (the file attached again)

    def where(self) -> list[Any]:
        where = [C.c.seq < self.below]
        if self.store_id is not None:
            where.append(C.c.vector_store_id == self.store_id)
        if self.file_id is not None:
            where.append(C.c.file_id == self.file_id)
        return where


async def orphan(conn: AsyncConnection, store_id: str | None, file_id: str | None) -> Orphaned:
    """Inside the transaction deleting their owner rows: the chunks a ``Collector`` removes after."""
    top = (await conn.execute(select(func.max(C.c.seq)))).scalar()
    return Orphaned(store_id, file_id, (top or 0) + 1)


async def delete_seqs(db: Database, seqs: Sequence[int]) -> None:
    """Delete these chunks with their vectors, ``BATCH`` to a transaction, ``GAP`` between."""
    for start in range(0, len(seqs), BATCH):
        if start:
            await asyncio.sleep(GAP)
        part = list(seqs[start : start + BATCH])
        async with db.write() as conn:
            # Vectors first (as in ``remove_chunks``).
            await conn.execute(delete(V).where(V.c.chunk_seq.in_(part)))
            await conn.execute(delete(C).where(C.c.seq.in_(part)))


async def orphaned_seqs(db: Database) -> list[int]:
    """Chunks no file in a store owns (a process stopped while collecting them), staged ones aside."""
    owned = exists().where(and_(VF.c.vector_store_id == C.c.vector_store_id, VF.c.id == C.c.file_id))
    query = select(C.c.seq).where(C.c.vector_store_id.not_like(f"{STAGED_PREFIX}%"), ~owned)
    async with db.read() as conn:
        return list((await conn.scalars(query)).all())


class Collector:
    """Deletes orphaned chunks in the background, in short transactions."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._running: set[asyncio.Task[None]] = set()

    def collect(self, orphaned: Orphaned) -> None:
        task = asyncio.create_task(self._collect(orphaned))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _collect(self, orphaned: Orphaned) -> None:
        try:
            while True:
                async with self.db.read() as conn:
                    seqs = (await conn.scalars(select(C.c.seq).where(*orphaned.where()).limit(BATCH))).all()
                if not seqs:
                    return
                await delete_seqs(self.db, seqs)
                await asyncio.sleep(GAP)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the next ingestion worker to start finishes the job
            if not self.db.availability.absorbs(error):
                logger.exception("could not delete the chunks of %s", orphaned)

    async def wait(self) -> None:
        """Until every collection under way is done (tests, benchmarks)."""
        while self._running:
            await asyncio.wait(list(self._running))

    async def stop(self) -> None:
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.wait(list(self._running))


async def remove_chunks(conn: AsyncConnection, store_id: str | None, file_id: str | None) -> None:
    """A file's chunks in one store, all of a store's, or all of a file's, with their vectors, in the
    caller's transaction (a thread's store: a chat's uploads)."""
    chunks, vectors = [], []
    if store_id is not None:
        chunks.append(C.c.vector_store_id == store_id)
        vectors.append(V.c.vector_store_id == store_id)
    if file_id is not None:
        chunks.append(C.c.file_id == file_id)
        vectors.append(V.c.file_id == file_id)
    # Vectors first: their foreign key would cascade, but only where SQLite's foreign_keys pragma is on.
    await conn.execute(delete(V).where(*vectors))
    await conn.execute(delete(C).where(*chunks))


async def detach_everywhere(conn: AsyncConnection, project_id: str, file_id: str) -> Orphaned:
    """Take a deleted file out of every store of its project; its chunks are for a ``Collector``."""
    await conn.execute(delete(VF).where(VF.c.id == file_id, VF.c.project_id == project_id))
    return await orphan(conn, None, file_id)
