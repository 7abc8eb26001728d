"""The Files API (``client.files``) under ``/v1/files``, for an admin key, confined to its project.

``POST /v1/files`` streams the multipart ``file`` field into the blob store
(capped by ``CHATKITD_FILE_MAX_BYTES``, refused on the declared length first);
the ``purpose`` and ``expires_after`` fields come with it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from chatkitd.errors import PayloadTooLarge
from chatkitd.http.auth import admin_project
from chatkitd.http.body import list_window, path_id, query_text
from chatkitd.http.multipart import FilePart, file_chunks
from chatkitd.http.state import platform_of
from chatkitd.knowledge import files as knowledge_files
from chatkitd.knowledge.service import Knowledge
from chatkitd.rest.input_policy import MULTIPART_SLACK
from chatkitd.runtime.attachments import OCTET_STREAM, media_type
from chatkitd.store.rest_shapes import list_resource

# OpenAI's own bounds for GET /files.
MAX_FILES_PAGE = 10_000


def knowledge(request: Request) -> Knowledge:
    return platform_of(request).knowledge


async def create_file(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    store = knowledge(request).files
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > store.max_bytes + MULTIPART_SLACK:
        raise PayloadTooLarge(
            f"Files may be at most {store.max_bytes} bytes.", param="file", code="file_too_large"
        )
    part = FilePart()

    def describe() -> tuple[str, str, str, int | None]:
        purpose = knowledge_files.check_purpose(part.fields.get("purpose"))
        expires = knowledge_files.expiry(
            part.fields.get("expires_after[anchor]"), part.fields.get("expires_after[seconds]")
        )
        filename = (part.filename or "file").replace("/", "_")
        return filename, media_type(part.content_type or OCTET_STREAM), purpose, expires

    stream = file_chunks(request.stream(), request.headers.get("content-type"), part)
    record = await store.create(project_id, stream, describe)
    return JSONResponse(record.resource())


async def list_files(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    window = list_window(request, maximum=MAX_FILES_PAGE, default=MAX_FILES_PAGE)
    records, has_more = await knowledge(request).files.page(
        project_id, window, query_text(request, "purpose")
    )
    return JSONResponse(list_resource([r.resource() for r in records], has_more))


async def retrieve_file(request: Request) -> JSONResponse:
    record = await knowledge(request).files.get(await admin_project(request), path_id(request, "file_id"))
    return JSONResponse(record.resource())


async def delete_file(request: Request) -> JSONResponse:
    file_id = path_id(request, "file_id")
    await knowledge(request).files.delete(await admin_project(request), file_id)
    return JSONResponse(knowledge_files.deleted_resource(file_id))


async def file(request: Request) -> Response:
    if request.method == "DELETE":
        return await delete_file(request)
    return await retrieve_file(request)


async def file_content(request: Request) -> StreamingResponse:
    files = knowledge(request).files
    record = await files.get(await admin_project(request), path_id(request, "file_id"))
    return StreamingResponse(
        files.content(record),
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(record.bytes),
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(record.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


async def files_root(request: Request) -> Response:
    if request.method == "POST":
        return await create_file(request)
    return await list_files(request)


routes = [
    Route("/v1/files", files_root, methods=["GET", "POST"]),
    Route("/v1/files/{file_id}", file, methods=["GET", "DELETE"]),
    Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
]
