"""Blobs in a local folder (the default back end): ``<root>/<project>/<blob>``.

A write streams into ``<blob>.<random>.partial`` and is renamed into place
only when complete, so a reader never sees half a blob, two writers never mix
their bytes, and a failed write leaves nothing. The writer holds an exclusive
``flock`` on its partial file while writing: the lock dies with the process,
so ``sweep_unfinished`` can tell a crashed writer's leftovers (unlocked) from a
live one's, in this process or another sharing the folder.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from chatkitd.blobs.common import BlobTooLarge, check_id

PARTIAL = ".partial"
# A partial file is created, then locked: one this young may be between the two.
_JUST_CREATED_SECONDS = 2.0


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.description = f"folder {self.root}"

    def path(self, project_id: str, blob_id: str) -> Path:
        check_id(project_id, blob_id)
        return self.root / project_id / blob_id

    async def write(self, project_id: str, blob_id: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        """Store the stream; raise BlobTooLarge as soon as it passes ``limit`` bytes."""
        target = self.path(project_id, blob_id)
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{secrets.token_hex(6)}{PARTIAL}")
        written = 0
        try:
            async with await anyio.open_file(partial, "xb") as out:
                fcntl.flock(out.wrapped.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                async for chunk in chunks:
                    written += len(chunk)
                    if written > limit:
                        raise BlobTooLarge(limit)
                    await out.write(chunk)
                # Renamed while still locked: a sweep never sees it unlocked under its partial name.
                await anyio.Path(partial).rename(target)
        except BaseException:
            await anyio.Path(partial).unlink(missing_ok=True)
            raise
        return written

    async def size(self, project_id: str, blob_id: str) -> int | None:
        try:
            return (await anyio.Path(self.path(project_id, blob_id)).stat()).st_size
        except FileNotFoundError:
            return None

    async def delete(self, project_id: str, blob_id: str) -> None:
        await anyio.Path(self.path(project_id, blob_id)).unlink(missing_ok=True)

    async def read_chunks(
        self, project_id: str, blob_id: str, chunk_size: int = 64 * 1024
    ) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self.path(project_id, blob_id), "rb") as source:
            while chunk := await source.read(chunk_size):
                yield chunk

    async def check(self) -> None:
        """Ready when the folder exists (or can be made) and takes a file."""
        await anyio.to_thread.run_sync(self._check)

    def _check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise PermissionError(f"{self.root} is not writable")

    async def sweep_unfinished(self, older_than_seconds: float = 0) -> int:
        """Delete partial files no live writer holds; returns how many went.

        The lock tells a crashed writer's file from a live one's, so no age is
        needed (``older_than_seconds`` is for stores that cannot tell): only the
        instant between creating a partial file and locking it is guarded.
        """
        return await anyio.to_thread.run_sync(self._sweep, _JUST_CREATED_SECONDS)

    def _sweep(self, older_than_seconds: float) -> int:
        removed = 0
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        for partial in self.root.glob(f"*/*{PARTIAL}"):
            try:
                fd = os.open(partial, os.O_RDONLY)
            except FileNotFoundError:
                continue  # renamed into place or removed meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer
            else:
                if os.fstat(fd).st_mtime < cutoff:
                    partial.unlink(missing_ok=True)
                    removed += 1
            finally:
                os.close(fd)
        return removed

    async def close(self) -> None:
        return None
