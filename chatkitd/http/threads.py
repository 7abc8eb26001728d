"""The REST thread endpoints: list, retrieve, delete, and list a thread's items.

Reads answer with the REST shapes the store keeps beside each row
(``chatkitd.store.rest_pages``), and may be replayed until the next write
(``chatkitd.http.response_cache``); only deletion goes through the ``Store``.
"""

from __future__ import annotations

from chatkit.store import NotFoundError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatkitd.context import RequestContext
from chatkitd.errors import NotFound
from chatkitd.http.auth import admin_project
from chatkitd.http.body import list_window, path_id, query_text
from chatkitd.http.response_cache import cacheable
from chatkitd.http.state import platform_of
from chatkitd.rest.threads import deleted_resource


async def _admin_context(request: Request) -> RequestContext:
    return RequestContext(project_id=await admin_project(request))


def _thread_not_found(thread_id: str) -> NotFound:
    return NotFound(f"No thread found with id '{thread_id}'.", param="thread_id")


def _replayable_json(request: Request, body: bytes) -> Response:
    """A read's answer, which the response cache may replay until the next write."""
    cacheable(request)
    return Response(body, media_type="application/json")


async def list_threads(request: Request) -> Response:
    project_id = await admin_project(request)
    window = list_window(request)
    pages = platform_of(request).rest_pages
    page = await pages.threads(project_id, window, user=query_text(request, "user"))
    return _replayable_json(request, page)


async def retrieve_thread(request: Request) -> Response:
    project_id = await admin_project(request)
    thread_id = path_id(request, "thread_id")
    try:
        thread = await platform_of(request).rest_pages.thread(project_id, thread_id)
    except NotFoundError:
        raise _thread_not_found(thread_id) from None
    return _replayable_json(request, thread)


async def delete_thread(request: Request) -> JSONResponse:
    context = await _admin_context(request)
    thread_id = path_id(request, "thread_id")
    try:
        await platform_of(request).threads.delete_thread(thread_id, context)
    except NotFoundError:
        raise _thread_not_found(thread_id) from None
    return JSONResponse(deleted_resource(thread_id))


async def list_items(request: Request) -> Response:
    project_id = await admin_project(request)
    window = list_window(request)
    thread_id = path_id(request, "thread_id")
    try:
        page = await platform_of(request).rest_pages.items(project_id, thread_id, window)
    except NotFoundError:
        raise _thread_not_found(thread_id) from None
    return _replayable_json(request, page)


async def thread(request: Request) -> Response:
    # One route for both methods, so a 405 on this path lists them both in Allow.
    if request.method == "DELETE":
        return await delete_thread(request)
    return await retrieve_thread(request)


routes = [
    Route("/v1/chatkit/threads", list_threads, methods=["GET"]),
    Route("/v1/chatkit/threads/{thread_id}", thread, methods=["GET", "DELETE"]),
    Route("/v1/chatkit/threads/{thread_id}/items", list_items, methods=["GET"]),
]
