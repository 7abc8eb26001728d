"""Vector stores and the files attached to them (``client.vector_stores`` and ``.files``).

Every lookup goes through ``_store_row``, which confines it to the caller's
project: a store of another project is as unknown as one that never existed.
Attaching a file records it ``in_progress``; the ingestion worker
(``chatkitd.knowledge.worker``) takes it from there. ``file_counts`` and
``usage_bytes`` are counted from the attached files when read, so they always
add up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatkitd import clock
from chatkitd.errors import NotFound
from chatkitd.knowledge import tables
from chatkitd.knowledge.files import FileStore
from chatkitd.knowledge.ids import new_vector_store_id
from chatkitd.knowledge.index_rows import orphan
from chatkitd.knowledge.requests import FileAttach, VectorStoreCreate, VectorStoreUpdate, chunking_of
from chatkitd.store.db import Database
from chatkitd.store.paging import Window, page_on

S, VF, C = tables.vector_stores, tables.vector_store_files, tables.knowledge_chunks
STATUSES = ("in_progress", "completed", "failed", "cancelled")
DAY = 24 * 3600


@dataclass
class FileCounts:
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    usage_bytes: int = 0

    def resource(self) -> dict[str, int]:
        counts = {status: getattr(self, status) for status in STATUSES}
        return {**counts, "total": sum(counts.values())}


@dataclass(frozen=True)
class StoreRecord:
    id: str
    project_id: str
    name: str
    description: str | None
    metadata: dict[str, str] | None
    expires_after_days: int | None
    created_at: float
    last_active_at: float
    thread_id: str | None

    @classmethod
    def from_row(cls, row: Any) -> StoreRecord:
        return cls(
            row.id,
            row.project_id,
            row.name,
            row.description,
            json.loads(row.metadata) if row.metadata else None,
            row.expires_after_days,
            row.created_at,
            row.last_active_at,
            row.thread_id,
        )

    @property
    def expires_at(self) -> int | None:
        if self.expires_after_days is None:
            return None
        return int(self.last_active_at) + self.expires_after_days * DAY

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= clock.unix()

    def resource(self, counts: FileCounts) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "vector_store",
            "created_at": int(self.created_at),
            "name": self.name,
            "usage_bytes": counts.usage_bytes,
            "file_counts": counts.resource(),
            "status": "expired" if self.expired else "in_progress" if counts.in_progress else "completed",
            "last_active_at": int(self.last_active_at),
            "metadata": self.metadata or {},
            "expires_at": self.expires_at,
        }
        if self.expires_after_days is not None:
            body["expires_after"] = {"anchor": "last_active_at", "days": self.expires_after_days}
        return body


def deleted_store(store_id: str) -> dict[str, Any]:
    return {"id": store_id, "object": "vector_store.deleted", "deleted": True}


def deleted_store_file(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}


def store_not_found(store_id: str) -> NotFound:
    return NotFound(f"No vector store found with id '{store_id}'.", param="vector_store_id")


def file_not_found(file_id: str, param: str = "file_id") -> NotFound:
    return NotFound(f"No file found with id '{file_id}'.", param=param)


def store_file_resource(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "vector_store.file",
        "usage_bytes": row.usage_bytes,
        "created_at": int(row.created_at),
        "vector_store_id": row.vector_store_id,
        "status": row.status,
        "last_error": json.loads(row.last_error) if row.last_error else None,
        "chunking_strategy": {"type": "static", "static": json.loads(row.chunking)},
        "attributes": json.loads(row.attributes) if row.attributes else {},
    }


def of_project(project_id: str) -> tuple[Any, ...]:
    """The one tenancy rule for vector stores: the project's own, less its threads' stores
    (``chatkitd.knowledge.thread_uploads``), which only their thread reaches."""
    return (S.c.project_id == project_id, S.c.thread_id.is_(None))


async def _store_row(conn: AsyncConnection, project_id: str, store_id: str) -> Any:
    """A store of this project, or a 404."""
    row = (await conn.execute(select(S).where(S.c.id == store_id, *of_project(project_id)))).first()
    if row is None:
        raise store_not_found(store_id)
    return row


async def counts_of(
    conn: AsyncConnection, store_ids: Iterable[str], batch_id: str | None = None
) -> dict[str, FileCounts]:
    ids = list(store_ids)
    counts = {store_id: FileCounts() for store_id in ids}
    if not ids:
        return counts
    query = select(
        VF.c.vector_store_id, VF.c.status, func.count(), func.coalesce(func.sum(VF.c.usage_bytes), 0)
    )
    query = query.where(VF.c.vector_store_id.in_(ids))
    if batch_id is not None:
        query = query.where(VF.c.batch_id == batch_id)
    for store_id, status, number, usage in (
        await conn.execute(query.group_by(VF.c.vector_store_id, VF.c.status))
    ).all():
        setattr(counts[store_id], status, number)
        counts[store_id].usage_bytes += int(usage)
    return counts


def _attach_row(
    project_id: str, store_id: str, entry: FileAttach, batch_id: str | None, now: float
) -> dict[str, Any]:
    return {
        "vector_store_id": store_id,
        "id": entry.file_id,
        "project_id": project_id,
        "batch_id": batch_id,
        "status": "in_progress",
        "last_error": None,
        "usage_bytes": 0,
        "attributes": json.dumps(entry.attributes) if entry.attributes else None,
        "chunking": chunking_of(entry.chunking_strategy).model_dump_json(),
        "created_at": now,
        "claim_token": None,
        "claimed_until": None,
        "attempts": 0,
    }


class VectorStores:
    def __init__(self, db: Database, files: FileStore, wake: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self.files = files
        self._wake = wake  # tells this process's ingestion worker that work is waiting

    # -- stores ---------------------------------------------------------------------------

    async def create(self, project_id: str, body: VectorStoreCreate) -> dict[str, Any]:
        await self._require_files(project_id, body.file_ids, "file_ids")
        now = clock.unix()
        record = StoreRecord(
            id=new_vector_store_id(),
            project_id=project_id,
            name=body.name or "",
            description=body.description,
            metadata=body.metadata,
            expires_after_days=body.expires_after.days if body.expires_after else None,
            created_at=now,
            last_active_at=now,
            thread_id=None,
        )
        async with self.db.write() as conn:
            values = {**record.__dict__, "metadata": json.dumps(record.metadata) if record.metadata else None}
            await conn.execute(insert(S).values(**values))
            entries = [
                FileAttach(file_id=f, chunking_strategy=body.chunking_strategy)
                for f in dict.fromkeys(body.file_ids)
            ]
            if entries:
                await conn.execute(
                    insert(VF), [_attach_row(project_id, record.id, e, None, now) for e in entries]
                )
            counts = (await counts_of(conn, [record.id]))[record.id]
        if body.file_ids:
            self._wake()
        return record.resource(counts)

    async def get(self, project_id: str, store_id: str) -> StoreRecord:
        async with self.db.read() as conn:
            return StoreRecord.from_row(await _store_row(conn, project_id, store_id))

    async def retrieve(self, project_id: str, store_id: str) -> dict[str, Any]:
        async with self.db.read() as conn:
            record = StoreRecord.from_row(await _store_row(conn, project_id, store_id))
            return record.resource((await counts_of(conn, [store_id]))[store_id])

    async def page(self, project_id: str, window: Window) -> tuple[list[dict[str, Any]], bool]:
        where = list(of_project(project_id))
        async with self.db.read() as conn:
            rows, has_more = await page_on(conn, select(S).where(*where), S, window, where)
            counts = await counts_of(conn, [row.id for row in rows])
        return [StoreRecord.from_row(row).resource(counts[row.id]) for row in rows], has_more

    async def update(self, project_id: str, store_id: str, body: VectorStoreUpdate) -> dict[str, Any]:
        values: dict[str, Any] = {}
        given = body.model_fields_set
        if "name" in given and body.name is not None:
            values["name"] = body.name
        if "metadata" in given:
            values["metadata"] = json.dumps(body.metadata) if body.metadata else None
        if "expires_after" in given:
            values["expires_after_days"] = body.expires_after.days if body.expires_after else None
        async with self.db.write() as conn:
            await _store_row(conn, project_id, store_id)
            if values:
                await conn.execute(update(S).where(S.c.id == store_id).values(**values))
        return await self.retrieve(project_id, store_id)

    async def delete(self, project_id: str, store_id: str) -> None:
        async with self.db.write() as conn:
            await _store_row(conn, project_id, store_id)
            await conn.execute(delete(VF).where(VF.c.vector_store_id == store_id))
            B = tables.vector_store_file_batches
            await conn.execute(delete(B).where(B.c.vector_store_id == store_id))
            await conn.execute(delete(S).where(S.c.id == store_id))
            orphaned = await orphan(conn, store_id, None)
        self.files.collector.collect(orphaned)

    async def touch(self, store_ids: list[str]) -> None:
        """Searching keeps a store active (expiry counts from ``last_active_at``); once a minute at most."""
        now = clock.unix()
        async with self.db.write() as conn:
            await conn.execute(
                update(S)
                .where(S.c.id.in_(store_ids), S.c.last_active_at < now - 60)
                .values(last_active_at=now)
            )

    # -- files in a store -----------------------------------------------------------------------

    async def _require_files(self, project_id: str, file_ids: list[str], param: str) -> None:
        found = await self.files.get_many(project_id, file_ids)
        for index, file_id in enumerate(file_ids):
            if file_id not in found:
                raise file_not_found(file_id, f"{param}[{index}]" if param.endswith("s") else param)

    async def attach(
        self,
        project_id: str,
        store_id: str,
        entries: list[FileAttach],
        batch_id: str | None = None,
        param: str = "file_id",
    ) -> list[Any]:
        """Attach files (already attached ones are left as they are); returns their rows."""
        async with self.db.read() as conn:
            await _store_row(
                conn, project_id, store_id
            )  # the store first: a stranger learns nothing of files
        await self._require_files(project_id, [e.file_id for e in entries], param)
        now = clock.unix()
        async with self.db.write() as conn:
            await _store_row(conn, project_id, store_id)
            if batch_id is not None:
                B = tables.vector_store_file_batches
                await conn.execute(
                    insert(B).values(
                        id=batch_id, vector_store_id=store_id, project_id=project_id, created_at=now
                    )
                )
            wanted = list(dict.fromkeys(e.file_id for e in entries))
            present = set(
                (
                    await conn.scalars(
                        select(VF.c.id).where(VF.c.vector_store_id == store_id, VF.c.id.in_(wanted))
                    )
                ).all()
            )
            fresh = [e for e in {e.file_id: e for e in entries}.values() if e.file_id not in present]
            if fresh:
                await conn.execute(
                    insert(VF), [_attach_row(project_id, store_id, e, batch_id, now) for e in fresh]
                )
            if batch_id is not None and present:
                # A batch counts every file it names, including ones attached before it.
                await conn.execute(
                    update(VF)
                    .where(VF.c.vector_store_id == store_id, VF.c.id.in_(present))
                    .values(batch_id=batch_id)
                )
            rows = (
                await conn.execute(select(VF).where(VF.c.vector_store_id == store_id, VF.c.id.in_(wanted)))
            ).all()
        if fresh:
            self._wake()
        order = {file_id: index for index, file_id in enumerate(wanted)}
        return sorted(rows, key=lambda row: order[row.id])

    async def store_file(self, project_id: str, store_id: str, file_id: str) -> Any:
        async with self.db.read() as conn:
            await _store_row(conn, project_id, store_id)
            row = (
                await conn.execute(select(VF).where(VF.c.vector_store_id == store_id, VF.c.id == file_id))
            ).first()
        if row is None:
            raise file_not_found(file_id)
        return row

    async def page_files(
        self, project_id: str, store_id: str, window: Window, status: str | None, batch_id: str | None = None
    ) -> tuple[list[Any], bool]:
        where = [VF.c.vector_store_id == store_id]
        if batch_id is not None:
            where.append(VF.c.batch_id == batch_id)
        query = select(VF).where(*where, *([VF.c.status == status] if status else []))
        async with self.db.read() as conn:
            await _store_row(conn, project_id, store_id)
            return await page_on(conn, query, VF, window, where)

    async def update_attributes(
        self, project_id: str, store_id: str, file_id: str, attributes: dict[str, Any] | None
    ) -> Any:
        async with self.db.write() as conn:
            await _store_row(conn, project_id, store_id)
            done = await conn.execute(
                update(VF)
                .where(VF.c.vector_store_id == store_id, VF.c.id == file_id)
                .values(attributes=json.dumps(attributes) if attributes else None)
            )
            if done.rowcount == 0:
                raise file_not_found(file_id)
        return await self.store_file(project_id, store_id, file_id)

    async def detach(self, project_id: str, store_id: str, file_id: str) -> None:
        async with self.db.write() as conn:
            await _store_row(conn, project_id, store_id)
            done = await conn.execute(delete(VF).where(VF.c.vector_store_id == store_id, VF.c.id == file_id))
            if done.rowcount == 0:
                raise file_not_found(file_id)
            orphaned = await orphan(conn, store_id, file_id)
        self.files.collector.collect(orphaned)
