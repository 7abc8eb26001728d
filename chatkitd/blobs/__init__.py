"""Where uploaded bytes live: one interface, a local folder or an S3-compatible bucket behind it.

Attachments (``chatkitd.runtime.attachments``), the Files API and ingestion
(``chatkitd.knowledge``), previews and deletes all go through ``BlobStore``;
none of them knows which back end holds the bytes. ``CHATKITD_STORAGE_URL``
picks it (``open_blobs``): unset, a folder in the data dir; ``s3://bucket/prefix``,
a bucket, so that several replicas on several machines serve each other's files.

Every back end keeps the same promises:

- ``write`` streams, never holding a whole file, and stops with ``BlobTooLarge``
  at the first byte over its limit; a write that fails leaves nothing behind,
  and a reader never sees half a blob;
- a blob is addressed by ``(project_id, blob_id)``, both plain ids;
- ``sweep_unfinished`` removes what writers killed mid-write left (partial
  files, unfinished multipart uploads), never a live writer's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from chatkitd.blobs.common import BlobTooLarge, BlobUnavailable, check_id
from chatkitd.blobs.files import FileBlobStore

__all__ = [
    "BlobStore",
    "BlobTooLarge",
    "BlobUnavailable",
    "FileBlobStore",
    "check_id",
    "open_blobs",
    "read_all",
]


class BlobStore(Protocol):
    """What every back end offers. ``size`` is None for a blob that is not there."""

    description: str

    async def write(self, project_id: str, blob_id: str, chunks: AsyncIterator[bytes], limit: int) -> int: ...
    async def size(self, project_id: str, blob_id: str) -> int | None: ...
    def read_chunks(self, project_id: str, blob_id: str) -> AsyncIterator[bytes]: ...
    async def delete(self, project_id: str, blob_id: str) -> None: ...
    async def check(self) -> None: ...
    async def sweep_unfinished(self, older_than_seconds: float) -> int:
        """Remove what crashed writers left; a store that cannot tell a live writer from a dead
        one removes only what is older than ``older_than_seconds``."""
        ...

    async def close(self) -> None: ...


async def read_all(blobs: BlobStore, project_id: str, blob_id: str, limit: int | None = None) -> bytes | None:
    """A blob's bytes when it is there (and at most ``limit`` long), else None: never read past it."""
    size = await blobs.size(project_id, blob_id)
    if size is None or (limit is not None and size > limit):
        return None
    return b"".join([chunk async for chunk in blobs.read_chunks(project_id, blob_id)])


def open_blobs(storage_url: str | None, local_dir: Path) -> BlobStore:
    """The back end ``CHATKITD_STORAGE_URL`` names; unset, the folder ``local_dir``."""
    if not storage_url:
        return FileBlobStore(local_dir)
    if storage_url.startswith("s3://"):
        # Imported only when used: the S3 client is a heavy import a local server never needs.
        from chatkitd.blobs.s3 import S3BlobStore

        return S3BlobStore.from_url(storage_url)
    if storage_url.startswith("file://"):
        return FileBlobStore(Path(storage_url.removeprefix("file://")))
    raise ValueError(f"unsupported storage URL {storage_url!r}: use s3://bucket/prefix or file:///path")
