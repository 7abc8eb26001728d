"""Background ingestion: each attached file goes ``in_progress`` → ``completed`` or ``failed``.

The ``vector_store_files`` rows are the queue, so any process sharing the
database can do the work. A worker claims a row by writing a fresh token and a
lease in one conditional ``UPDATE`` (only one claimant can match), renews the
lease while it works, and writes the chunks and the final status in one
transaction that first checks the claim is still its own. A process that dies
mid-file leaves a lease that runs out; the next worker takes the file over,
and after ``MAX_ATTEMPTS`` interrupted tries the file fails with
``server_error`` instead of staying ``in_progress`` for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import insert, or_, select, update

from chatkitd import clock
from chatkitd.blobs import BlobStore, read_all
from chatkitd.knowledge import tables, thread_uploads
from chatkitd.knowledge.chunking import chunk_text
from chatkitd.knowledge.embeddings import Embedder, EmbeddingError, to_blob
from chatkitd.knowledge.files import text_blob_id
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
        while True:
            try:
                while await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must outlive a bad moment (say, the database restarting)
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
                return False  # detached, cancelled or taken over meanwhile: what was done here is not wanted
            base = {"vector_store_id": row.vector_store_id, "file_id": row.id}
            for start in range(0, len(chunks), INSERT_BATCH):
                part = chunks[start : start + INSERT_BATCH]
                seqs = (
                    (
                        await conn.execute(
                            insert(C).returning(C.c.seq, sort_by_parameter_order=True),
                            [
                                {**base, "position": c.position, "text": c.text, "tokens": c.tokens}
                                for c in part
                            ],
                        )
                    )
                    .scalars()
                    .all()
                )
                if vectors:
                    model = self.embedder.model if self.embedder is not None else ""
                    await conn.execute(
                        insert(V),
                        [
                            {**base, "chunk_seq": seq, "model": model, "vector": vectors[start + index]}
                            for index, seq in enumerate(seqs)
                        ],
                    )
        return True

    async def _forget_text_of_deleted(self, row: Any) -> None:
        """The file (or the thread of an upload) was deleted while it was processed: the text
        written for it must go too."""
        if await self._source(row) is None:
            await self.blobs.delete(row.project_id, text_blob_id(row.id))


def _error(code: str, message: str) -> str:
    return json.dumps({"code": code, "message": message[:1000]})


async def _one(data: bytes):  # noqa: ANN202
    yield data
