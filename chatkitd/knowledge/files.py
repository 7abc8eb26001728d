"""Files (``client.files``): bytes in the blob store, a row per file, confined to a project.

An upload streams into the blob store, which stops at the size limit, and the
row is written only once every byte is there: a failed upload leaves nothing.
Deleting a file removes it from every vector store it was in (with its chunks
and vectors), then its bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, insert, select

from chatkitd import clock
from chatkitd.blobs import BlobStore, BlobTooLarge, read_all
from chatkitd.errors import InvalidRequest, NotFound, PayloadTooLarge
from chatkitd.knowledge import tables
from chatkitd.knowledge.ids import new_file_id
from chatkitd.knowledge.index_rows import Collector, detach_everywhere
from chatkitd.store.db import Database
from chatkitd.store.paging import Window, page_on

F = tables.knowledge_files
# Purposes chatkitd keeps files for; batch and fine-tuning files have no use here.
PURPOSES = ("assistants", "user_data", "vision")
EXPIRY_SECONDS = (3600, 30 * 24 * 3600)


@dataclass(frozen=True)
class FileRecord:
    id: str
    project_id: str
    filename: str
    bytes: int
    purpose: str
    mime_type: str
    created_at: float
    expires_at: int | None

    @classmethod
    def from_row(cls, row: Any) -> FileRecord:
        return cls(
            row.id,
            row.project_id,
            row.filename,
            row.bytes,
            row.purpose,
            row.mime_type,
            row.created_at,
            row.expires_at,
        )

    def resource(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": int(self.created_at),
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }
        if self.expires_at is not None:
            body["expires_at"] = self.expires_at
        return body


def deleted_resource(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "deleted": True}


def check_purpose(purpose: str | None) -> str:
    if purpose is None:
        raise InvalidRequest("Missing required parameter: 'purpose'.", param="purpose")
    if purpose not in PURPOSES:
        raise InvalidRequest(
            f"Invalid 'purpose': chatkitd keeps files for {', '.join(PURPOSES)}; got {purpose!r}.",
            param="purpose",
        )
    return purpose


def expiry(anchor: str | None, seconds: str | None) -> int | None:
    """``expires_after[anchor]`` and ``expires_after[seconds]`` as multipart fields, checked."""
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise InvalidRequest(
            "Invalid 'expires_after.anchor': must be 'created_at'.", param="expires_after.anchor"
        )
    low, high = EXPIRY_SECONDS
    if seconds is None or not seconds.isascii() or not seconds.isdigit() or not low <= int(seconds) <= high:
        raise InvalidRequest(
            f"Invalid 'expires_after.seconds': an integer between {low} and {high}.",
            param="expires_after.seconds",
        )
    return int(seconds)


def _not_found(file_id: str) -> NotFound:
    return NotFound(f"No such File object: {file_id}", param="file_id")


class FileStore:
    def __init__(
        self, db: Database, blobs: BlobStore, max_bytes: int, collector: Collector | None = None
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.max_bytes = max_bytes
        self.collector = collector or Collector(db)

    async def create(
        self,
        project_id: str,
        chunks: AsyncIterator[bytes],
        describe: Any,
        purpose: Literal["assistants", "user_data", "vision"] | str | None = None,
    ) -> FileRecord:
        """Stream an upload into the blob store, then record it.

        ``describe`` is read after the bytes (a multipart part's name, type and
        the form fields that came with it): it returns ``(filename, mime_type,
        purpose, expires_after_seconds)``.
        """
        file_id = new_file_id()
        try:
            size = await self.blobs.write(project_id, file_id, chunks, self.max_bytes)
        except BlobTooLarge:
            raise PayloadTooLarge(
                f"Files may be at most {self.max_bytes} bytes.", param="file", code="file_too_large"
            ) from None
        try:
            filename, mime_type, purpose, expires_in = describe()
        except BaseException:
            await self.blobs.delete(project_id, file_id)
            raise
        now = clock.unix()
        record = FileRecord(
            id=file_id,
            project_id=project_id,
            filename=filename,
            bytes=size,
            purpose=purpose,
            mime_type=mime_type,
            created_at=now,
            expires_at=int(now) + expires_in if expires_in is not None else None,
        )
        try:
            async with self.db.write() as conn:
                await conn.execute(insert(F).values(**record.__dict__))
        except BaseException:
            await self.blobs.delete(project_id, file_id)
            raise
        return record

    async def get(self, project_id: str, file_id: str) -> FileRecord:
        async with self.db.read() as conn:
            row = (
                await conn.execute(select(F).where(F.c.id == file_id, F.c.project_id == project_id))
            ).first()
        if row is None or _expired(row):
            raise _not_found(file_id)
        return FileRecord.from_row(row)

    async def find(self, file_id: str) -> FileRecord | None:
        """A file by id alone, for a link whose signature already names it."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(F).where(F.c.id == file_id))).first()
        return None if row is None or _expired(row) else FileRecord.from_row(row)

    async def get_many(self, project_id: str, file_ids: list[str]) -> dict[str, FileRecord]:
        """The project's files among ``file_ids``, by id (missing ones are left out)."""
        if not file_ids:
            return {}
        async with self.db.read() as conn:
            rows = (
                await conn.execute(select(F).where(F.c.project_id == project_id, F.c.id.in_(set(file_ids))))
            ).all()
        return {row.id: FileRecord.from_row(row) for row in rows if not _expired(row)}

    async def page(
        self, project_id: str, window: Window, purpose: str | None
    ) -> tuple[list[FileRecord], bool]:
        where = [F.c.project_id == project_id]
        if purpose is not None:
            where.append(F.c.purpose == purpose)
        query = select(F).where(*where, (F.c.expires_at.is_(None)) | (F.c.expires_at > int(clock.unix())))
        async with self.db.read() as conn:
            rows, has_more = await page_on(conn, query, F, window, [F.c.project_id == project_id])
        return [FileRecord.from_row(row) for row in rows], has_more

    async def delete(self, project_id: str, file_id: str) -> None:
        """The file, its place in every vector store, its chunks and vectors, and then its bytes."""
        async with self.db.write() as conn:
            found = await conn.execute(delete(F).where(F.c.id == file_id, F.c.project_id == project_id))
            if found.rowcount == 0:
                raise _not_found(file_id)
            orphaned = await detach_everywhere(conn, project_id, file_id)
        self.collector.collect(orphaned)
        await self.blobs.delete(project_id, file_id)
        await self.blobs.delete(project_id, text_blob_id(file_id))

    def content(self, record: FileRecord) -> AsyncIterator[bytes]:
        return self.blobs.read_chunks(record.project_id, record.id)

    async def text(self, project_id: str, file_id: str) -> str | None:
        """The file's text as ingestion extracted it, or None before any store processed it."""
        data = await read_all(self.blobs, project_id, text_blob_id(file_id))
        return None if data is None else data.decode("utf-8")


def text_blob_id(file_id: str) -> str:
    """Where a file's extracted text is kept, beside its bytes."""
    return f"{file_id}-text"


def _expired(row: Any) -> bool:
    return row.expires_at is not None and row.expires_at <= clock.unix()
