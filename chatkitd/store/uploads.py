"""Finding an attachment by id alone, for the signed upload and preview URLs.

Those requests carry a signature instead of a client secret, so there is no
request context yet: this lookup is how the route learns whose attachment it
is (project, user, session) and builds one.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatkit.types import Attachment
from pydantic import TypeAdapter
from sqlalchemy import select

from chatkitd.store import tables
from chatkitd.store.db import Database

_attachments: TypeAdapter[Attachment] = TypeAdapter(Attachment)


@dataclass(frozen=True)
class AttachmentRecord:
    attachment: Attachment
    project_id: str
    user: str
    session_id: str | None
    thread_id: str | None
    size: int
    uploaded: bool


def blob_id_of(attachment: Attachment) -> str:
    """Where an attachment's bytes are in the blob store.

    Each upload writes under a name of its own (so two uploads racing on one
    link never share a file) and the winner's name is kept in the record's
    metadata; records from before that are stored under the attachment's id.
    """
    blob = (attachment.metadata or {}).get("blob")
    return blob if isinstance(blob, str) and blob else attachment.id


async def find_attachment(db: Database, attachment_id: str) -> AttachmentRecord | None:
    a = tables.attachments
    query = select(
        a.c.data, a.c.project_id, a.c.user, a.c.session_id, a.c.thread_id, a.c.size, a.c.uploaded
    ).where(a.c.id == attachment_id)
    async with db.read() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    return AttachmentRecord(
        attachment=_attachments.validate_json(row.data),
        project_id=row.project_id,
        user=row.user,
        session_id=row.session_id,
        thread_id=row.thread_id,
        size=row.size,
        uploaded=row.uploaded,
    )
