"""A cited file, opened from the chat: only by a user whose own thread cites it.

A citation is a ``FileSource`` annotation naming the file, with the file's id
in ``group``. The chat holds a client secret, not an admin key, so the Files
API is closed to it; ``source`` answers it instead when the thread is the
caller's (the store's isolation rule, through ``load_thread``) and an assistant
message in it cites the file. A client secret never reaches a project file
its user was not shown. The answer carries the file's extracted text (what the
model read) and a short-lived signed link to its bytes, which a browser can
open without the secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chatkit.store import NotFoundError
from sqlalchemy import select

from chatkitd.context import RequestContext
from chatkitd.errors import NotFound
from chatkitd.knowledge.files import FileRecord, FileStore
from chatkitd.runtime.signing import Signer
from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.store.threads import ThreadStore
from chatkitd.store.uploads import AttachmentRecord, blob_id_of, find_attachment

I = tables.items  # noqa: E741 - the items table, as elsewhere in the store
SOURCE = "source"  # the signer's purpose for a cited file's bytes
LINK_SECONDS = 3600
# The text shown in the chat; a longer text is cut, and the answer says so.
MAX_TEXT_CHARS = 2_000_000
# Types a browser may show inline under a sandbox; anything else (a PDF too: a sandboxed
# page cannot run the browser's PDF viewer) downloads.
INLINE_TYPES = frozenset({"text/plain", "text/markdown", "text/csv", "image/png", "image/jpeg", "image/gif"})


def _cites(data: str, file_id: str) -> bool:
    item = json.loads(data)
    return any(
        annotation.get("source", {}).get("type") == "file"
        and annotation.get("source", {}).get("group") == file_id
        for part in item.get("content", [])
        for annotation in part.get("annotations", [])
    )


async def thread_cites(db: Database, thread_id: str, file_id: str) -> bool:
    """Whether an assistant message of the thread cites the file (the caller checked the thread)."""
    # The JSON text narrows the rows; parsing them decides (a file id has no LIKE wildcard but _).
    pattern = "%" + json.dumps(file_id).replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
    query = select(I.c.data).where(
        I.c.thread_id == thread_id, I.c.type == "assistant_message", I.c.data.like(pattern, escape="\\")
    )
    async with db.read() as conn:
        rows = (await conn.execute(query)).scalars().all()
    return any(_cites(data, file_id) for data in rows)


def _not_cited(file_id: str) -> NotFound:
    return NotFound(f"No file '{file_id}' is cited in this thread.", param="file_id")


@dataclass(frozen=True)
class CitedFile:
    """A file a citation names: a project file, or an upload of the thread (its own store's hits)."""

    id: str
    project_id: str
    filename: str
    mime_type: str
    bytes: int
    blob_id: str  # where its bytes are

    @classmethod
    def of_file(cls, record: FileRecord) -> CitedFile:
        return cls(record.id, record.project_id, record.filename, record.mime_type, record.bytes, record.id)

    @classmethod
    def of_upload(cls, found: AttachmentRecord) -> CitedFile:
        attachment = found.attachment
        return cls(
            attachment.id,
            found.project_id,
            attachment.name,
            attachment.mime_type or "application/octet-stream",
            found.size,
            blob_id_of(attachment),
        )


async def find(db: Database, files: FileStore, file_id: str) -> CitedFile | None:
    """A cited file by id alone, for a link whose signature already names it."""
    record = await files.find(file_id)
    if record is not None:
        return CitedFile.of_file(record)
    found = await find_attachment(db, file_id)
    return CitedFile.of_upload(found) if found is not None and found.thread_id is not None else None


async def cited_file(
    db: Database,
    threads: ThreadStore,
    files: FileStore,
    context: RequestContext,
    thread_id: str,
    file_id: str,
) -> CitedFile:
    """The file, if the caller's thread cites it; else a 404 that tells nothing more."""
    try:
        await threads.load_thread(thread_id, context)
    except NotFoundError:
        raise NotFound(f"No thread found with id '{thread_id}'.", param="thread_id") from None
    if not await thread_cites(db, thread_id, file_id):
        raise _not_cited(file_id)
    found = await files.get_many(context.project_id, [file_id])
    if file_id in found:
        return CitedFile.of_file(found[file_id])
    upload = await find_attachment(db, file_id)
    if upload is not None and upload.thread_id == thread_id and upload.project_id == context.project_id:
        return CitedFile.of_upload(upload)  # one of this thread's own uploads, searched in its store
    raise _not_cited(file_id)  # cited once, deleted since


async def source(record: CitedFile, files: FileStore, signer: Signer, base_url: str) -> dict[str, Any]:
    """``chatkit.source``: what the chat shows for a citation."""
    text = await files.text(record.project_id, record.id)
    cut = text is not None and len(text) > MAX_TEXT_CHARS
    return {
        "object": "chatkit.source",
        "id": record.id,
        "filename": record.filename,
        "mime_type": record.mime_type,
        "bytes": record.bytes,
        "text": text[:MAX_TEXT_CHARS] if text is not None else None,
        "text_truncated": cut,
        "content_url": f"{base_url}/v1/chatkit/sources/{record.id}/content?"
        + signer.query(SOURCE, record.id, LINK_SECONDS),
    }


def content_headers(record: CitedFile) -> dict[str, str]:
    """Headers for a cited file's bytes: shown inline only for safe types, always sandboxed."""
    from urllib.parse import quote

    inline = record.mime_type in INLINE_TYPES
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Type": record.mime_type if inline else "application/octet-stream",
        "Content-Length": str(record.bytes),
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(record.filename, safe='')}",
        "Cache-Control": "private, max-age=3600",
        # The bytes are a project's document: opened as a page, it must not run script
        # on chatkitd's origin, and no browser may sniff it into HTML.
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        "X-Content-Type-Options": "nosniff",
    }
