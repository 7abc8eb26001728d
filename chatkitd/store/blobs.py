"""Attachment bytes on the file system, one file per attachment.

Writes stream to a temporary file and are renamed into place only when
complete, so a reader never sees half an upload and an aborted upload leaves
nothing behind.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class BlobTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"upload exceeds {limit} bytes")
        self.limit = limit


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, project_id: str, blob_id: str) -> Path:
        for part in (project_id, blob_id):
            if not _SAFE_ID.match(part):
                raise ValueError(f"unsafe blob path component: {part!r}")
        return self.root / project_id / blob_id

    async def write(self, project_id: str, blob_id: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        """Store the stream; raise BlobTooLarge as soon as it passes ``limit`` bytes."""
        target = self.path(project_id, blob_id)
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        written = 0
        try:
            async with await anyio.open_file(partial, "wb") as out:
                async for chunk in chunks:
                    written += len(chunk)
                    if written > limit:
                        raise BlobTooLarge(limit)
                    await out.write(chunk)
            await anyio.Path(partial).rename(target)
        except BaseException:
            await anyio.Path(partial).unlink(missing_ok=True)
            raise
        return written

    def exists(self, project_id: str, blob_id: str) -> bool:
        return self.path(project_id, blob_id).is_file()

    async def delete(self, project_id: str, blob_id: str) -> None:
        await anyio.Path(self.path(project_id, blob_id)).unlink(missing_ok=True)

    async def read_chunks(
        self, project_id: str, blob_id: str, chunk_size: int = 64 * 1024
    ) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self.path(project_id, blob_id), "rb") as source:
            while chunk := await source.read(chunk_size):
                yield chunk

    def size(self, project_id: str, blob_id: str) -> int:
        return os.path.getsize(self.path(project_id, blob_id))
