"""File batches (``vector_stores.file_batches``): many files attached at once, counted together.

A batch's status follows its files: ``in_progress`` while any is, then
``completed`` (failed files included, as OpenAI does); ``cancelled`` once
cancelled, which cancels its files still waiting.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from chatkitd import clock
from chatkitd.errors import NotFound
from chatkitd.knowledge import tables
from chatkitd.knowledge.ids import new_batch_id
from chatkitd.knowledge.requests import BatchCreate
from chatkitd.knowledge.stores import VectorStores, _store_row, counts_of

B, VF = tables.vector_store_file_batches, tables.vector_store_files


def _not_found(batch_id: str) -> NotFound:
    return NotFound(f"No file batch found with id '{batch_id}'.", param="batch_id")


class FileBatches:
    def __init__(self, stores: VectorStores) -> None:
        self.stores = stores
        self.db = stores.db

    async def create(self, project_id: str, store_id: str, body: BatchCreate) -> dict[str, Any]:
        batch_id = new_batch_id()
        param = "files" if body.files is not None else "file_ids"
        await self.stores.attach(project_id, store_id, body.entries(), batch_id=batch_id, param=param)
        return await self.retrieve(project_id, store_id, batch_id)

    async def _row(self, conn: Any, project_id: str, store_id: str, batch_id: str) -> Any:
        await _store_row(conn, project_id, store_id)
        row = (
            await conn.execute(select(B).where(B.c.id == batch_id, B.c.vector_store_id == store_id))
        ).first()
        if row is None:
            raise _not_found(batch_id)
        return row

    async def retrieve(self, project_id: str, store_id: str, batch_id: str) -> dict[str, Any]:
        async with self.db.read() as conn:
            row = await self._row(conn, project_id, store_id, batch_id)
            counts = (await counts_of(conn, [store_id], batch_id=batch_id))[store_id]
        if row.cancelled_at is not None:
            status = "cancelled"
        else:
            status = "in_progress" if counts.in_progress else "completed"
        return {
            "id": row.id,
            "object": "vector_store.files_batch",
            "created_at": int(row.created_at),
            "vector_store_id": store_id,
            "status": status,
            "file_counts": counts.resource(),
        }

    async def cancel(self, project_id: str, store_id: str, batch_id: str) -> dict[str, Any]:
        async with self.db.write() as conn:
            row = await self._row(conn, project_id, store_id, batch_id)
            if row.cancelled_at is None:
                await conn.execute(update(B).where(B.c.id == batch_id).values(cancelled_at=clock.unix()))
                # Files still waiting are cancelled; a worker finishing one finds it so and drops its work.
                await conn.execute(
                    update(VF)
                    .where(VF.c.batch_id == batch_id, VF.c.status == "in_progress")
                    .values(status="cancelled", claim_token=None, claimed_until=None)
                )
        return await self.retrieve(project_id, store_id, batch_id)

    async def require(self, project_id: str, store_id: str, batch_id: str) -> None:
        async with self.db.read() as conn:
            await self._row(conn, project_id, store_id, batch_id)
