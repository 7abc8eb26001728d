"""Removing indexed rows: a file's chunks and vectors in one store, in every store, or a whole store's.

One place for it, so deleting a file (``files``), detaching it or deleting a
store (``stores``) leave nothing behind the same way.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from chatkitd.knowledge import tables

C, VF = tables.knowledge_chunks, tables.vector_store_files


async def remove_chunks(conn: AsyncConnection, store_id: str | None, file_id: str | None) -> None:
    """A file's chunks in one store, all of a store's, or all of a file's, with their vectors."""
    V = tables.knowledge_vectors
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


async def detach_everywhere(conn: AsyncConnection, project_id: str, file_id: str) -> None:
    """Take a deleted file out of every store of its project."""
    await remove_chunks(conn, None, file_id)
    await conn.execute(delete(VF).where(VF.c.id == file_id, VF.c.project_id == project_id))
