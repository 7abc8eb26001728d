"""Attachments: records in the thread store, bytes in the blob store, limits from the session.

Two ways in, as ChatKit.js knows them:

- two-phase: ``attachments.create`` records the attachment and returns an
  ``upload_descriptor`` whose URL is signed for that one attachment; the bytes
  are then POSTed there (``complete_upload``);
- direct: one multipart POST with the client secret (``direct_upload``).

``max_file_size`` is in MB of 1024 × 1024 bytes. It is checked on the declared
size, then again on the bytes as they stream to disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any, Protocol

from chatkit.store import AttachmentStore
from chatkit.types import (
    Attachment,
    AttachmentCreateParams,
    AttachmentUploadDescriptor,
    FileAttachment,
    ImageAttachment,
)

from chatkitd import ids
from chatkitd.blobs import BlobStore, BlobTooLarge, BlobUnavailable
from chatkitd.context import RequestContext
from chatkitd.errors import Conflict, InvalidRequest, PayloadTooLarge, Unauthenticated
from chatkitd.runtime.signing import PREVIEW, UPLOAD, Signer
from chatkitd.store.sessions import SessionRecord
from chatkitd.store.threads import ThreadStore
from chatkitd.store.uploads import AttachmentRecord, find_attachment

MB = 1024 * 1024
logger = logging.getLogger(__name__)


class FileDescription(Protocol):
    filename: str | None
    content_type: str | None


# RFC 6838 type/subtype: what may go into a Content-Type header as it is.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
OCTET_STREAM = "application/octet-stream"


def media_type(declared: str | None) -> str:
    """The declared type without parameters, or ``application/octet-stream`` if it is not one.

    The client's declaration is served back as the preview's Content-Type, so
    control characters (a header split) or an empty type (a browser's unknown
    file) must not reach it.
    """
    base = (declared or "").split(";", 1)[0].strip()
    return base if _MEDIA_TYPE.fullmatch(base) else OCTET_STREAM


UPLOAD_URL_TTL = 60 * 60
# An upload under way holds a lease on its attachment, renewed every quarter of this while it
# runs; one not renewed for this long was a dead server's (``CHATKITD_UPLOAD_LEASE_SECONDS``).
UPLOAD_LEASE_SECONDS = 120
PREVIEW_URL_TTL = 30 * 24 * 60 * 60


def max_bytes(session: SessionRecord) -> int:
    return session.max_file_size * MB


def _too_large(session: SessionRecord, param: str | None) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"Files may be at most {session.max_file_size} MB ({max_bytes(session)} bytes).",
        param=param,
        code="file_too_large",
    )


class ConversationAttachments(AttachmentStore[RequestContext]):
    def __init__(
        self,
        threads: ThreadStore,
        blobs: BlobStore,
        signer: Signer,
        lease_seconds: float = UPLOAD_LEASE_SECONDS,
    ) -> None:
        self.threads = threads
        self.blobs = blobs
        self.signer = signer
        self.lease_seconds = lease_seconds

    def generate_attachment_id(self, mime_type: str, context: RequestContext) -> str:
        return ids.new_id(ids.ATTACHMENT)

    # -- URLs -----------------------------------------------------------------------

    def upload_url(self, base_url: str, attachment_id: str) -> str:
        query = self.signer.query(UPLOAD, attachment_id, UPLOAD_URL_TTL)
        return f"{base_url}/v1/chatkit/files/{attachment_id}/upload?{query}"

    def preview_url(self, base_url: str, attachment_id: str) -> str:
        query = self.signer.query(PREVIEW, attachment_id, PREVIEW_URL_TTL)
        return f"{base_url}/v1/chatkit/files/{attachment_id}/preview?{query}"

    # -- the session's limits ------------------------------------------------------------

    async def check_allowed(self, context: RequestContext, declared_size: int | None = None) -> SessionRecord:
        """Uploads enabled, and the declared size within the limit (``max_files`` is ``_reserve``'s)."""
        session = context.session
        if session is None:
            raise Unauthenticated("Uploads need a session's client secret.", code="invalid_client_secret")
        if not session.upload_enabled:
            raise InvalidRequest("File uploads are disabled for this session.", code="file_upload_disabled")
        if declared_size is not None and declared_size > max_bytes(session):
            raise _too_large(session, "params.size")
        return session

    async def _reserve(self, attachment: Attachment, context: RequestContext, *, direct: bool) -> None:
        """Take one of the session's ``max_files`` for this attachment, atomically (a direct
        upload's is under way at once, with a lease)."""
        session = context.session
        assert session is not None
        lease = self.lease_seconds if direct else None
        if not await self.threads.reserve_attachment(
            attachment, context, session.max_files, direct_lease_seconds=lease
        ):
            raise InvalidRequest(
                f"This session may upload at most {session.max_files} files.",
                code="max_files_exceeded",
            )

    # -- records ---------------------------------------------------------------------

    def _build(
        self, context: RequestContext, attachment_id: str, name: str, mime_type: str, **fields: Any
    ) -> Attachment:
        base_url = context.extras["base_url"]
        mime_type = media_type(mime_type)
        if mime_type.lower().startswith("image/"):
            preview = self.preview_url(base_url, attachment_id)
            return ImageAttachment(
                id=attachment_id, name=name, mime_type=mime_type, preview_url=preview, **fields
            )
        return FileAttachment(id=attachment_id, name=name, mime_type=mime_type, **fields)

    async def create_attachment(self, input: AttachmentCreateParams, context: RequestContext) -> Attachment:
        """Phase one: a record (reserved here, within ``max_files``), and where to send the bytes."""
        await self.check_allowed(context, input.size)
        attachment_id = self.generate_attachment_id(input.mime_type, context)
        descriptor = AttachmentUploadDescriptor(
            url=self.upload_url(context.extras["base_url"], attachment_id),
            method="POST",
            headers={},
        )
        attachment = self._build(
            context,
            attachment_id,
            input.name,
            input.mime_type,
            upload_descriptor=descriptor,
            metadata={"size": input.size, "uploaded": False},
        )
        await self._reserve(attachment, context, direct=False)
        return attachment

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        # Ownership only: chatkit then calls the store's delete_attachment, which
        # removes the record and then its bytes. Not the caller's: nothing is deleted, and
        # the conversation answers as for any delete (``IDEMPOTENT_DELETES``).
        await self.threads.load_attachment(attachment_id, context)

    # -- bytes ------------------------------------------------------------------------

    async def _write(
        self, attachment_id: str, blob_id: str, chunks: AsyncIterator[bytes], context: RequestContext
    ) -> int:
        """Stream the bytes to ``blob_id``, renewing the upload's lease on ``attachment_id`` while
        they come: however long a live upload takes, no other request takes it over."""
        session = context.session
        assert session is not None
        renewing = asyncio.create_task(self._renew_lease(attachment_id))
        try:
            return await self.blobs.write(context.project_id, blob_id, chunks, max_bytes(session))
        except BlobTooLarge:
            raise _too_large(session, "file") from None
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)

    async def _renew_lease(self, attachment_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 4)
            try:
                await self.threads.renew_upload(attachment_id)
            except Exception as error:  # the next renewal may pass; the upload goes on
                logger.warning("could not renew the upload lease of %s: %s", attachment_id, error)

    async def sweep_lapsed(self) -> int:
        """Direct uploads a dead server left under way give their files back (at start and now
        and then); how many."""
        return await self.threads.sweep_lapsed_uploads(self.lease_seconds)

    async def complete_upload(
        self, record: AttachmentRecord, chunks: AsyncIterator[bytes], context: RequestContext
    ) -> Attachment:
        """Phase two: the bytes for an attachment created by ``attachments.create``.

        One upload per attachment: a second one while the first is under way, or
        after it finished, is a 409. The bytes go to a blob of this upload's own,
        and only the upload recorded first counts, so even uploads that both got
        past the claim (a lapsed lease) never mix or replace each other's bytes.
        """
        attachment_id = record.attachment.id
        if record.uploaded:
            raise _already_uploaded()
        if not await self.threads.begin_upload(attachment_id, self.lease_seconds):
            fresh = await find_attachment(self.threads.db, attachment_id)
            if fresh is not None and fresh.uploaded:
                raise _already_uploaded()
            raise Conflict("This attachment is being uploaded by another request.", code="upload_in_progress")
        blob_id = f"{attachment_id}-{secrets.token_hex(8)}"
        try:
            size = await self._write(attachment_id, blob_id, chunks, context)
        except BaseException:
            await asyncio.shield(self.threads.abandon_upload(attachment_id))
            raise
        attachment = record.attachment.model_copy(
            update={
                "upload_descriptor": None,
                "metadata": {"size": size, "uploaded": True, "blob": blob_id},
            }
        )
        if not await asyncio.shield(self.threads.finish_upload(attachment, blob_id, size)):
            await self.blobs.delete(context.project_id, blob_id)
            raise _already_uploaded()
        return attachment

    async def direct_upload(
        self,
        chunks: AsyncIterator[bytes],
        part: FileDescription,
        context: RequestContext,
    ) -> Attachment:
        """One request: take a file of the session's ``max_files``, stream the bytes, record them.

        ``part`` is read after the bytes: its name and type arrive with them. A
        failed upload gives the file back, and so does one whose server died mid-upload, once its
        lease lapses.
        """
        await self.check_allowed(context)
        attachment_id = self.generate_attachment_id("", context)
        pending = self._build(
            context, attachment_id, attachment_id, OCTET_STREAM, metadata={"uploaded": False}
        )
        await self._reserve(pending, context, direct=True)
        try:
            size = await self._write(attachment_id, attachment_id, chunks, context)
            attachment = self._build(
                context,
                attachment_id,
                part.filename or attachment_id,
                part.content_type or OCTET_STREAM,
                metadata={"size": size, "uploaded": True, "blob": attachment_id},
            )
            if not await asyncio.shield(self.threads.finish_upload(attachment, attachment_id, size)):
                # Its lease lapsed (every renewal failed for that long) and the file was given back.
                raise Conflict(
                    "This upload lost its place while the database was away; send it again.",
                    code="upload_lapsed",
                )
        except BaseException:
            await asyncio.shield(self._give_back(attachment_id, context))
            raise
        return attachment

    async def _give_back(self, attachment_id: str, context: RequestContext) -> None:
        await self.threads.release_reservation(attachment_id)
        # A failed write left nothing; this is for a failure after the bytes were stored.
        with contextlib.suppress(BlobUnavailable):
            await self.blobs.delete(context.project_id, attachment_id)


def _already_uploaded() -> Conflict:
    return Conflict("This attachment has already been uploaded.", code="already_uploaded")
