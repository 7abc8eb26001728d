"""Background ingestion: each attached file goes ``in_progress`` → ``completed`` or ``failed``.

The ``vector_store_files`` rows are the queue, so any process sharing the
database can do the work. A worker claims a row by writing a fresh token and a
lease in one conditional ``UPDATE`` (only one claimant can match), renews the
lease while it works, and writes the chunks and the final status in one
transaction that first checks the claim is still its own. A process that dies
mid-file leaves a lease that runs out; the next worker takes the file over,
and after ``MAX_ATTEMPTS`` interrupted tries the file fails with
``server_error`` instead of staying ``in_progress`` for ever.

SQLite has one writer for every process sharing the data dir, and a file at
the token bound is some 12 000 chunks: written in that one transaction they held
the write lock (and, inline, the event loop) for seconds. There the chunks are
written first in transactions of ``INSERT_BATCH``, each checking the claim, under
a name no search reads (``_staged``: the claim's token), and the final
transaction renames them to their store (no full-text work: only the chunk's
text is indexed). A lost claim drops them; so does the next claim of the file,
and a worker starting up drops any whose claim is gone (a process that died
mid-file).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from chatkitd import clock
from chatkitd.blobs import BlobStore, read_all
from chatkitd.knowledge import index_rows, tables, thread_uploads
from chatkitd.knowledge.chunking import chunk_text
from chatkitd.knowledge.embeddings import Embedder, EmbeddingError, to_blob
from chatkitd.knowledge.files import text_blob_id
from chatkitd.knowledge.index_rows import STAGED_PREFIX
from chatkitd.knowledge.parsing import UnreadableFile, extract_text
from chatkitd.knowledge.thread_uploads import Source
from chatkitd.store.db import Database

logger = logging.getLogger(__name__)

VF, F, C, V = (
    tables.vector_store_files,
    tables.knowledge_files,
    tables.knowledge_chunks,
    tables.knowledge_vectors,
)
LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 3
POLL_SECONDS = 2.0
INSERT_BATCH = 500
STAGE_GAP = 0.11  # seconds between two staged batches (SQLite)
STOP_SECONDS = 5.0


class Failure(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class IngestionWorker:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        embedder: Embedder | None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.embedder = embedder
        self.lease_seconds = lease_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Tests and benchmarks may wrap a step to observe or interrupt it.
        self.before_commit: Callable[[Any], Awaitable[None]] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="chatkitd-ingestion")

    async def stop(self) -> None:
        """Stop between files, or cancel the file in hand (its lease runs out; another process,
        or this one after a restart, takes it over). Bounded: a shutdown never waits on a parser."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=STOP_SECONDS)
        if not done:
            logger.warning("ingestion worker did not stop within %s s; leaving it", STOP_SECONDS)

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        try:
            await self.drop_abandoned_chunks()
        except Exception as error:  # noqa: BLE001 - a database away at start: the next start sweeps
            if not self.db.availability.absorbs(error):
                logger.exception("ingestion worker: could not drop abandoned chunks")
        while True:
            try:
                while await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must outlive a bad moment (say, the database restarting)
                if not self.db.availability.absorbs(error):
                    logger.exception("ingestion worker: unexpected error; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def run_once(self) -> bool:
        """Claim and process one waiting file; False when none is waiting."""
        claimed = await self.claim()
        if claimed is None:
            return False
        await self.process(claimed)
        return True

    async def claim(self) -> Any | None:
        while True:
            now = clock.unix()
            token = secrets.token_hex(16)
            claimable = (
                VF.c.status == "in_progress",
                or_(VF.c.claimed_until.is_(None), VF.c.claimed_until < now),
            )
            # Idle polls only read: the write lock (SQLite's one writer) is taken when there is work.
            async with self.db.read() as conn:
                if (await conn.execute(select(VF.c.seq).where(*claimable).limit(1))).first() is None:
                    return None
            async with self.db.write() as conn:
                row = (await conn.execute(select(VF).where(*claimable).order_by(VF.c.seq).limit(1))).first()
                if row is None:
                    return None
                # A claim whose lease ran out may have staged chunks: they are not wanted.
                await _drop_staged(conn, row.claim_token)
                if row.attempts >= MAX_ATTEMPTS:
                    await conn.execute(
                        update(VF)
                        .where(VF.c.seq == row.seq, *claimable)
                        .values(
                            status="failed",
                            claim_token=None,
                            claimed_until=None,
                            last_error=_error(
                                "server_error", f"Processing was interrupted {row.attempts} times; giving up."
                            ),
                        )
                    )
                    continue
                taken = await conn.execute(
                    update(VF)
                    .where(VF.c.seq == row.seq, *claimable)
                    .values(
                        claim_token=token, claimed_until=now + self.lease_seconds, attempts=row.attempts + 1
                    )
                )
                if taken.rowcount == 1:
                    return (await conn.execute(select(VF).where(VF.c.seq == row.seq))).first()
            # Another process took it between our read and our update: look again.

    async def _renew(self, row: Any) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            async with self.db.write() as conn:
                await conn.execute(
                    update(VF)
                    .where(VF.c.seq == row.seq, VF.c.claim_token == row.claim_token)
                    .values(claimed_until=clock.unix() + self.lease_seconds)
                )

    async def process(self, row: Any) -> None:
        renewal = asyncio.create_task(self._renew(row))
        try:
            try:
                chunks, vectors, usage = await self._index(row)
            except Failure as failure:
                await self._finish(row, "failed", last_error=_error(failure.code, failure.message))
                return
            if not await self._finish(row, "completed", chunks=chunks, vectors=vectors, usage=usage):
                await self._forget_text_of_deleted(row)
        finally:
            renewal.cancel()
            # asyncio.wait, not `await renewal`: a cancellation of this task arriving here
            # must not be mistaken for the renewal's own, and swallowed.
            await asyncio.wait([renewal])

    async def _source(self, row: Any) -> Source | None:
        """The bytes to read: a project file, or (for a thread's store) the chat upload it names."""
        async with self.db.read() as conn:
            file = (
                await conn.execute(select(F).where(F.c.id == row.id, F.c.project_id == row.project_id))
            ).first()
            if file is not None:
                return Source(file.filename, file.mime_type, row.id, file.bytes)
            return await thread_uploads.source_of(conn, row)

    async def _index(self, row: Any) -> tuple[list[Any], list[bytes], int]:
        source = await self._source(row)
        data = (
            None
            if source is None
            else await read_all(self.blobs, row.project_id, source.blob_id, source.bytes)
        )
        if source is None or data is None:
            raise Failure("invalid_file", "The file was deleted before it could be processed.")
        chunking = json.loads(row.chunking)
        try:
            text = await asyncio.to_thread(extract_text, data, source.filename, source.mime_type)
            chunks = await asyncio.to_thread(
                chunk_text, text, chunking["max_chunk_size_tokens"], chunking["chunk_overlap_tokens"]
            )
        except UnreadableFile as error:
            raise Failure(error.code, str(error)) from None
        except ValueError as error:
            raise Failure("invalid_file", str(error)) from None
        except Exception as error:  # noqa: BLE001 - a parser's bug fails the file, never the server
            logger.exception("parsing %s failed", row.id)
            raise Failure(
                "server_error", f"The file could not be processed: {type(error).__name__}"
            ) from None
        await self.blobs.write(
            row.project_id, text_blob_id(row.id), _one(text.encode("utf-8")), max(len(text) * 4, 1)
        )
        vectors: list[bytes] = []
        if self.embedder is not None and chunks:
            try:
                embedded = await self.embedder.embed([chunk.text for chunk in chunks])
            except EmbeddingError as error:
                raise Failure("server_error", str(error)) from None
            vectors = [to_blob(vector) for vector in embedded]
        usage = sum(len(chunk.text.encode("utf-8")) for chunk in chunks) + sum(len(v) for v in vectors)
        return chunks, vectors, usage

    async def _finish(
        self,
        row: Any,
        status: str,
        *,
        chunks: list[Any] = (),  # type: ignore[assignment]
        vectors: list[bytes] = (),  # type: ignore[assignment]
        usage: int = 0,
        last_error: str | None = None,
    ) -> bool:
        """Write the outcome if the claim is still this worker's; whether it was."""
        if self.before_commit is not None:
            await self.before_commit(row)
        staged = self.db.is_sqlite and len(chunks) > INSERT_BATCH
        if staged and not await self._stage(row, chunks, vectors):
            return False
        async with self.db.write() as conn:
            mine = await conn.execute(
                update(VF)
                .where(VF.c.seq == row.seq, VF.c.claim_token == row.claim_token, VF.c.status == "in_progress")
                .values(
                    status=status,
                    last_error=last_error,
                    usage_bytes=usage,
                    claim_token=None,
                    claimed_until=None,
                )
            )
            if mine.rowcount != 1:
                # Detached, cancelled or taken over meanwhile: what was done here is not wanted.
                if staged:
                    await _drop_staged(conn, row.claim_token)
                return False
            if staged:
                name = _staged(row.claim_token)
                for table in (C, V):
                    await conn.execute(
                        update(table)
                        .where(table.c.vector_store_id == name)
                        .values(vector_store_id=row.vector_store_id)
                    )
            else:
                for start in range(0, len(chunks), INSERT_BATCH):
                    await self._insert(conn, row.vector_store_id, row.id, chunks, vectors, start)
        return True

    async def _stage(self, row: Any, chunks: list[Any], vectors: list[bytes]) -> bool:
        """Write the chunks in short transactions under the claim's staged name; False (and
        nothing left behind) when the claim stopped being this worker's."""
        for start in range(0, len(chunks), INSERT_BATCH):
            if start:
                # Another process waiting for the write lock polls for it (SQLite's busy
                # handler sleeps up to 100 ms between tries): leave it free long enough to get it.
                await asyncio.sleep(STAGE_GAP)
            async with self.db.write() as conn:
                mine = await conn.execute(
                    select(VF.c.seq).where(
                        VF.c.seq == row.seq, VF.c.claim_token == row.claim_token, VF.c.status == "in_progress"
                    )
                )
                if mine.first() is None:
                    await _drop_staged(conn, row.claim_token)
                    return False
                await self._insert(conn, _staged(row.claim_token), row.id, chunks, vectors, start)
        return True

    async def _insert(
        self, conn: Any, store: str, file_id: str, chunks: list[Any], vectors: list[bytes], start: int
    ) -> None:
        """Insert ``INSERT_BATCH`` chunks from ``start`` (and their vectors) into ``store``."""
        base = {"vector_store_id": store, "file_id": file_id}
        part = chunks[start : start + INSERT_BATCH]
        # One executemany (on SQLite, a bulk statement: off the event loop), not a statement per
        # row as RETURNING makes it; each chunk's seq is read back by its position.
        await conn.execute(
            insert(C), [{**base, "position": c.position, "text": c.text, "tokens": c.tokens} for c in part]
        )
        if not vectors:
            return
        positions = [c.position for c in part]
        by_position = dict(
            (
                await conn.execute(
                    select(C.c.position, C.c.seq).where(
                        C.c.vector_store_id == store,
                        C.c.file_id == file_id,
                        C.c.position.between(min(positions), max(positions)),
                    )
                )
            ).all()
        )
        seqs = [by_position[position] for position in positions]
        model = self.embedder.model if self.embedder is not None else ""
        await conn.execute(
            insert(V),
            [
                {**base, "chunk_seq": seq, "model": model, "vector": vectors[start + index]}
                for index, seq in enumerate(seqs)
            ],
        )

    async def drop_abandoned_chunks(self) -> None:
        """Chunks staged under a claim that is no longer anyone's, and chunks no file in a store
        owns: what a process that died mid-file or mid-delete left."""
        live = select(VF.c.claim_token).where(VF.c.claim_token.is_not(None))
        async with self.db.write() as conn:
            for table in (V, C):
                await conn.execute(
                    delete(table).where(
                        table.c.vector_store_id.like(f"{STAGED_PREFIX}%"),
                        func.substr(table.c.vector_store_id, len(STAGED_PREFIX) + 1).not_in(live),
                    )
                )
        await index_rows.delete_seqs(self.db, await index_rows.orphaned_seqs(self.db))

    async def _forget_text_of_deleted(self, row: Any) -> None:
        """The file (or the thread of an upload) was deleted while it was processed: the text
        written for it must go too."""
        if await self._source(row) is None:
            await self.blobs.delete(row.project_id, text_blob_id(row.id))


def _staged(claim_token: str) -> str:
    """The store name a claim's chunks are written under until they are complete."""
    return STAGED_PREFIX + claim_token


async def _drop_staged(conn: Any, claim_token: str | None) -> None:
    if claim_token is None:
        return
    for table in (V, C):
        await conn.execute(delete(table).where(table.c.vector_store_id == _staged(claim_token)))


def _error(code: str, message: str) -> str:
    return json.dumps({"code": code, "message": message[:1000]})


async def _one(data: bytes):  # noqa: ANN202
    yield data
