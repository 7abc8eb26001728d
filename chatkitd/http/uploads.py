"""File uploads and image previews for the conversation.

- ``POST /v1/chatkit/files``: direct upload, multipart with a ``file`` field and the client secret.
- ``POST /v1/chatkit/files/{id}/upload?expires&signature``: phase two of ``attachments.create``.
- ``GET /v1/chatkit/files/{id}/preview?expires&signature``: an image's bytes, for its owner's page.

Bodies are parsed as they arrive and written straight to the blob store, which
stops at the session's size limit; nothing holds a whole file in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatkit.types import Attachment
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from chatkitd.context import RequestContext
from chatkitd.errors import NotFound, PayloadTooLarge, Unauthenticated
from chatkitd.http.admission import client_context, session_request_context
from chatkitd.http.multipart import FilePart, file_chunks
from chatkitd.http.state import platform_of
from chatkitd.rest.input_policy import MULTIPART_SLACK
from chatkitd.runtime.attachments import max_bytes
from chatkitd.runtime.signing import PREVIEW, UPLOAD
from chatkitd.store.uploads import AttachmentRecord, blob_id_of, find_attachment

PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def _attachment_response(attachment: Attachment) -> Response:
    body = attachment.model_dump_json(by_alias=True, exclude_none=True, context={"exclude_metadata": True})
    return Response(body, media_type="application/json")


def _reject_oversized(request: Request, context: RequestContext) -> None:
    """Refuse before reading a byte when the declared length cannot fit."""
    assert context.session is not None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes(context.session) + MULTIPART_SLACK:
        raise PayloadTooLarge(
            f"Files may be at most {context.session.max_file_size} MB.", param="file", code="file_too_large"
        )


def _file_stream(request: Request, part: FilePart) -> AsyncIterator[bytes]:
    return file_chunks(request.stream(), request.headers.get("content-type"), part)


async def direct_upload(request: Request) -> Response:
    context = await client_context(request)
    attachments = platform_of(request).attachments
    await attachments.check_allowed(context)
    _reject_oversized(request, context)
    part = FilePart()
    attachment = await attachments.direct_upload(_file_stream(request, part), part, context)
    return _attachment_response(attachment)


async def _signed_attachment(request: Request, purpose: str) -> AttachmentRecord:
    attachment_id = request.path_params["attachment_id"]
    platform = platform_of(request)
    query = request.query_params
    if not platform.signer.verify(purpose, attachment_id, query.get("expires"), query.get("signature")):
        raise Unauthenticated("This link's signature is missing, wrong or expired.", code="invalid_signature")
    record = await find_attachment(platform.db, attachment_id)
    if record is None:
        raise NotFound(f"No attachment found with id '{attachment_id}'.", param="attachment_id")
    return record


async def signed_upload(request: Request) -> Response:
    record = await _signed_attachment(request, UPLOAD)
    if record.session_id is None:
        raise NotFound("This attachment has no session to upload with.", param="attachment_id")
    # The signature stands in for the secret, but the session must still be
    # active and within its rate limit.
    context = await session_request_context(request, record.project_id, record.session_id)
    _reject_oversized(request, context)
    part = FilePart()
    attachments = platform_of(request).attachments
    attachment = await attachments.complete_upload(record, _file_stream(request, part), context)
    return _attachment_response(attachment)


async def preview(request: Request) -> Response:
    record = await _signed_attachment(request, PREVIEW)
    blobs = platform_of(request).blobs
    blob_id = blob_id_of(record.attachment)
    size = await blobs.size(record.project_id, blob_id) if record.uploaded else None
    if size is None:
        raise NotFound("This attachment has no bytes yet.", param="attachment_id")
    return StreamingResponse(
        blobs.read_chunks(record.project_id, blob_id),
        media_type=record.attachment.mime_type,
        headers={
            "Content-Length": str(size),
            "Cache-Control": "private, max-age=3600",
            # The bytes are the user's: an SVG opened as a page must not run script
            # on chatkitd's origin, and no browser may sniff them into HTML.
            "Content-Security-Policy": PREVIEW_CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


routes = [
    Route("/v1/chatkit/files", direct_upload, methods=["POST"]),
    Route("/v1/chatkit/files/{attachment_id}/upload", signed_upload, methods=["POST"]),
    Route("/v1/chatkit/files/{attachment_id}/preview", preview, methods=["GET"]),
]
