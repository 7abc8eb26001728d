"""The REST thread endpoints: list, retrieve, delete, and list a thread's items."""

from __future__ import annotations

from chatkit.store import NotFoundError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatkitd.context import RequestContext
from chatkitd.errors import NotFound
from chatkitd.http.auth import admin_project
from chatkitd.http.body import list_window, path_id, query_text
from chatkitd.rest.items import REST_VISIBLE_TYPES, to_rest
from chatkitd.rest.threads import deleted_resource, list_resource, thread_resource


async def _admin_context(request: Request) -> RequestContext:
    return RequestContext(project_id=await admin_project(request))


def _thread_not_found(thread_id: str) -> NotFound:
    return NotFound(f"No thread found with id '{thread_id}'.", param="thread_id")


async def list_threads(request: Request) -> JSONResponse:
    context = await _admin_context(request)
    window = list_window(request)
    store = request.app.state.platform.threads
    threads, has_more = await store.page_threads(context, window, user=query_text(request, "user"))
    return JSONResponse(list_resource([thread_resource(t) for t in threads], has_more))


async def retrieve_thread(request: Request) -> JSONResponse:
    context = await _admin_context(request)
    thread_id = path_id(request, "thread_id")
    try:
        thread = await request.app.state.platform.threads.get_thread(thread_id, context)
    except NotFoundError:
        raise _thread_not_found(thread_id) from None
    return JSONResponse(thread_resource(thread))


async def delete_thread(request: Request) -> JSONResponse:
    context = await _admin_context(request)
    thread_id = path_id(request, "thread_id")
    try:
        await request.app.state.platform.threads.delete_thread(thread_id, context)
    except NotFoundError:
        raise _thread_not_found(thread_id) from None
    return JSONResponse(deleted_resource(thread_id))


async def list_items(request: Request) -> JSONResponse:
    context = await _admin_context(request)
    window = list_window(request)
    thread_id = path_id(request, "thread_id")
    try:
        items, has_more = await request.app.state.platform.threads.page_items(
            thread_id, context, window, types=REST_VISIBLE_TYPES
        )
    except NotFoundError:
        raise _thread_not_found(thread_id) from None
    data = [rest for rest in map(to_rest, items) if rest is not None]
    return JSONResponse(list_resource(data, has_more))


async def thread(request: Request) -> JSONResponse:
    # One route for both methods, so a 405 on this path lists them both in Allow.
    if request.method == "DELETE":
        return await delete_thread(request)
    return await retrieve_thread(request)


routes = [
    Route("/v1/chatkit/threads", list_threads, methods=["GET"]),
    Route("/v1/chatkit/threads/{thread_id}", thread, methods=["GET", "DELETE"]),
    Route("/v1/chatkit/threads/{thread_id}/items", list_items, methods=["GET"]),
]
