"""Vector stores (``client.vector_stores``, ``.files``, ``.file_batches``) under ``/v1/vector_stores``.

Admin key only, confined to its project. Routes parse and call
``chatkitd.knowledge``; search answers OpenAI's search results page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatkitd.errors import InvalidRequest
from chatkitd.http.auth import admin_project
from chatkitd.http.body import json_object, list_window, path_id, query_text
from chatkitd.http.files import knowledge
from chatkitd.knowledge import requests as bodies
from chatkitd.knowledge.stores import deleted_store, deleted_store_file, store_file_resource
from chatkitd.rest.validation import parse
from chatkitd.store.rest_shapes import list_resource

STATUSES = ("in_progress", "completed", "failed", "cancelled")


def _status_filter(request: Request) -> str | None:
    status = query_text(request, "filter")
    if status is not None and status not in STATUSES:
        raise InvalidRequest(
            f"Invalid 'filter': one of {', '.join(STATUSES)}; got {status!r}.", param="filter"
        )
    return status


async def stores_root(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    stores = knowledge(request).stores
    if request.method == "POST":
        body = parse(bodies.VectorStoreCreate, await json_object(request))
        return JSONResponse(await stores.create(project_id, body))
    data, has_more = await stores.page(project_id, list_window(request))
    return JSONResponse(list_resource(data, has_more))


async def store(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    store_id = path_id(request, "vector_store_id")
    stores = knowledge(request).stores
    if request.method == "DELETE":
        await stores.delete(project_id, store_id)
        return JSONResponse(deleted_store(store_id))
    if request.method == "POST":
        body = parse(bodies.VectorStoreUpdate, await json_object(request))
        return JSONResponse(await stores.update(project_id, store_id, body))
    return JSONResponse(await stores.retrieve(project_id, store_id))


async def search(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    store_id = path_id(request, "vector_store_id")
    body = parse(bodies.SearchRequest, await json_object(request))
    kb = knowledge(request)
    record = await kb.stores.get(project_id, store_id)
    if record.expired:
        raise InvalidRequest(
            f"Vector store '{store_id}' has expired.", param="vector_store_id", code="expired"
        )
    threshold = body.ranking_options.score_threshold if body.ranking_options else 0.0
    hits = await kb.searcher.search(
        [store_id], body.queries, body.max_num_results, body.filters, score_threshold=threshold
    )
    await kb.stores.touch([store_id])
    return JSONResponse(
        {
            "object": "vector_store.search_results.page",
            "search_query": body.queries,
            "data": [hit.resource() for hit in hits],
            "has_more": False,
            "next_page": None,
        }
    )


def _store_files_page(rows: list[Any], has_more: bool) -> JSONResponse:
    return JSONResponse(list_resource([store_file_resource(row) for row in rows], has_more))


async def store_files(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    store_id = path_id(request, "vector_store_id")
    stores = knowledge(request).stores
    if request.method == "POST":
        body = parse(bodies.FileAttach, await json_object(request))
        [row] = await stores.attach(project_id, store_id, [body])
        return JSONResponse(store_file_resource(row))
    rows, has_more = await stores.page_files(
        project_id, store_id, list_window(request), _status_filter(request)
    )
    return _store_files_page(rows, has_more)


async def store_file(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    store_id, file_id = path_id(request, "vector_store_id"), path_id(request, "file_id")
    stores = knowledge(request).stores
    if request.method == "DELETE":
        await stores.detach(project_id, store_id, file_id)
        return JSONResponse(deleted_store_file(file_id))
    if request.method == "POST":
        body = parse(bodies.FileAttributesUpdate, await json_object(request))
        return JSONResponse(
            store_file_resource(
                await stores.update_attributes(project_id, store_id, file_id, body.attributes)
            )
        )
    return JSONResponse(store_file_resource(await stores.store_file(project_id, store_id, file_id)))


async def store_file_content(request: Request) -> JSONResponse:
    """The file's text as it was parsed for the store (empty until it is processed)."""
    project_id = await admin_project(request)
    store_id, file_id = path_id(request, "vector_store_id"), path_id(request, "file_id")
    kb = knowledge(request)
    row = await kb.stores.store_file(project_id, store_id, file_id)
    text = await kb.files.text(project_id, file_id) if row.status == "completed" else None
    data = [{"type": "text", "text": text}] if text is not None else []
    return JSONResponse(
        {"object": "vector_store.file_content.page", "data": data, "has_more": False, "next_page": None}
    )


async def create_batch(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    body = parse(bodies.BatchCreate, await json_object(request))
    batches = knowledge(request).batches
    return JSONResponse(await batches.create(project_id, path_id(request, "vector_store_id"), body))


async def batch(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    batches = knowledge(request).batches
    return JSONResponse(
        await batches.retrieve(project_id, path_id(request, "vector_store_id"), path_id(request, "batch_id"))
    )


async def cancel_batch(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    batches = knowledge(request).batches
    return JSONResponse(
        await batches.cancel(project_id, path_id(request, "vector_store_id"), path_id(request, "batch_id"))
    )


async def batch_files(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    store_id, batch_id = path_id(request, "vector_store_id"), path_id(request, "batch_id")
    kb = knowledge(request)
    await kb.batches.require(project_id, store_id, batch_id)
    window, status = list_window(request), _status_filter(request)
    rows, has_more = await kb.stores.page_files(project_id, store_id, window, status, batch_id=batch_id)
    return _store_files_page(rows, has_more)


PREFIX = "/v1/vector_stores"
routes = [
    Route(PREFIX, stores_root, methods=["GET", "POST"]),
    Route(PREFIX + "/{vector_store_id}", store, methods=["GET", "POST", "DELETE"]),
    Route(PREFIX + "/{vector_store_id}/search", search, methods=["POST"]),
    Route(PREFIX + "/{vector_store_id}/files", store_files, methods=["GET", "POST"]),
    Route(PREFIX + "/{vector_store_id}/files/{file_id}", store_file, methods=["GET", "POST", "DELETE"]),
    Route(PREFIX + "/{vector_store_id}/files/{file_id}/content", store_file_content, methods=["GET"]),
    Route(PREFIX + "/{vector_store_id}/file_batches", create_batch, methods=["POST"]),
    Route(PREFIX + "/{vector_store_id}/file_batches/{batch_id}", batch, methods=["GET"]),
    Route(PREFIX + "/{vector_store_id}/file_batches/{batch_id}/cancel", cancel_batch, methods=["POST"]),
    Route(PREFIX + "/{vector_store_id}/file_batches/{batch_id}/files", batch_files, methods=["GET"]),
]
