"""Cited files, opened from the chat (``chatkitd.knowledge.sources``).

- ``GET /v1/chatkit/sources/{file_id}?thread_id=…``: with the client secret; the
  file's name, type, text and a signed link, when the caller's thread cites it.
- ``GET /v1/chatkit/sources/{file_id}/content?expires&signature``: the file's
  bytes, for the link above (a browser opens it without the secret).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from chatkitd.errors import InvalidRequest, NotFound, Unauthenticated
from chatkitd.http.admission import base_url, client_context
from chatkitd.http.body import path_id, query_text
from chatkitd.http.state import platform_of
from chatkitd.knowledge import sources


async def cited_source(request: Request) -> JSONResponse:
    context = await client_context(request)
    file_id = path_id(request, "file_id")
    thread_id = query_text(request, "thread_id")
    if not thread_id:
        raise InvalidRequest("Missing required parameter: 'thread_id'.", param="thread_id")
    platform = platform_of(request)
    files = platform.knowledge.files
    record = await sources.cited_file(platform.db, platform.threads, files, context, thread_id, file_id)
    return JSONResponse(await sources.source(record, files, platform.signer, base_url(request)))


async def source_content(request: Request) -> StreamingResponse:
    file_id = path_id(request, "file_id")
    platform = platform_of(request)
    query = request.query_params
    if not platform.signer.verify(sources.SOURCE, file_id, query.get("expires"), query.get("signature")):
        raise Unauthenticated("This link's signature is missing, wrong or expired.", code="invalid_signature")
    record = await sources.find(platform.db, platform.knowledge.files, file_id)
    if record is None:
        raise NotFound(f"No such File object: {file_id}", param="file_id")
    headers = sources.content_headers(record)
    chunks = platform.blobs.read_chunks(record.project_id, record.blob_id)
    return StreamingResponse(chunks, media_type=headers.pop("Content-Type"), headers=headers)


routes = [
    Route("/v1/chatkit/sources/{file_id}", cited_source, methods=["GET"]),
    Route("/v1/chatkit/sources/{file_id}/content", source_content, methods=["GET"]),
]
