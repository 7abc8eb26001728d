"""Admin-only JSON for the console: sessions, feedback, a thread's protocol items, and files by id.

The official API has no endpoint to list sessions or feedback, so these live
under ``/v1/chatkit/admin/``. They take an admin key and see only its project,
like the REST API.
"""

from __future__ import annotations

from typing import Any

from chatkit.store import NotFoundError
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatkitd.context import RequestContext
from chatkitd.errors import InvalidRequest, NotFound
from chatkitd.http.auth import admin_project
from chatkitd.http.body import list_window, path_id, query_text
from chatkitd.http.state import platform_of
from chatkitd.rest.sessions import session_resource
from chatkitd.store import feedback as feedback_store
from chatkitd.store import sessions as session_store
from chatkitd.store.paging import MAX_LIMIT
from chatkitd.store.rest_shapes import list_resource

HIDDEN_TYPES = ("hidden_context_item", "sdk_hidden_context")


async def list_sessions(request: Request) -> JSONResponse:
    window = list_window(request)
    records, has_more = await session_store.list_sessions(
        platform_of(request).db,
        await admin_project(request),
        limit=window.limit,
        user=query_text(request, "user"),
        after=window.after,
    )
    data = [{**session_resource(r), "created_at": int(r.created_at)} for r in records]
    return JSONResponse(list_resource(data, has_more=has_more))


def _feedback_resource(record: feedback_store.FeedbackRecord) -> dict[str, Any]:
    return {
        "id": f"fb_{record.id}",
        "object": "chatkit.feedback",
        "thread_id": record.thread_id,
        "item_id": record.item_id,
        "user": record.user,
        "kind": record.kind,
        "created_at": int(record.created_at),
    }


async def list_feedback(request: Request) -> JSONResponse:
    window = list_window(request)
    records, has_more = await feedback_store.list_feedback(
        platform_of(request).db,
        await admin_project(request),
        thread_id=query_text(request, "thread_id"),
        limit=window.limit,
        after=window.after,
    )
    return JSONResponse(list_resource([_feedback_resource(r) for r in records], has_more=has_more))


async def thread_items(request: Request) -> JSONResponse:
    """A thread's items in the protocol's own shape, so the console renders them as the user saw them."""
    context = RequestContext(project_id=await admin_project(request))
    thread_id = path_id(request, "thread_id")
    store = platform_of(request).threads
    try:
        items, has_more = await store.page_items(thread_id, context, list_window(request))
    except NotFoundError:
        raise NotFound(f"No thread found with id '{thread_id}'.", param="thread_id") from None
    data = [
        item.model_dump(mode="json", by_alias=True, exclude_none=True)
        for item in items
        if item.type not in HIDDEN_TYPES
    ]
    # first_id/last_id are cursors, so they name the page's edges even when hidden items are left out.
    page = list_resource(data, has_more)
    page.update(first_id=items[0].id if items else None, last_id=items[-1].id if items else None)
    return JSONResponse(page)


async def files_by_id(request: Request) -> JSONResponse:
    """The Files API's resources of the ``id``s given (repeated, at most a page's worth, as many as
    a page of a store's files holds): the console names a page of a store's files in one request,
    not one a file nor by listing them all. Ids the project has no file for are left out."""
    project_id = await admin_project(request)
    ids = list(dict.fromkeys(request.query_params.getlist("id")))
    if not ids or len(ids) > MAX_LIMIT:
        raise InvalidRequest(f"Give 1 to {MAX_LIMIT} file ids as 'id'.", param="id")
    found = await platform_of(request).knowledge.files.get_many(project_id, ids)
    return JSONResponse(list_resource([found[i].resource() for i in ids if i in found], has_more=False))


routes = [
    Route("/v1/chatkit/admin/files", files_by_id, methods=["GET"]),
    Route("/v1/chatkit/admin/sessions", list_sessions, methods=["GET"]),
    Route("/v1/chatkit/admin/feedback", list_feedback, methods=["GET"]),
    Route("/v1/chatkit/admin/threads/{thread_id}/items", thread_items, methods=["GET"]),
]
