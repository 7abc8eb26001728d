"""``GET /v1/chatkit/traces?thread_id=&after=&limit=`` (newest first, keyset-paged) and
``GET /v1/chatkit/traces/{id}`` (admin key, project-scoped)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatkitd.errors import NotFound
from chatkitd.http.auth import admin_project
from chatkitd.http.body import path_id, query_text
from chatkitd.http.state import platform_of
from chatkitd.store.paging import parse_limit
from chatkitd.store.rest_shapes import list_resource
from chatkitd.tracing import store as trace_store


async def list_traces(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    limit = parse_limit(request.query_params.get("limit"), "limit", minimum=1)
    data, has_more = await trace_store.list_traces(
        platform_of(request).db,
        project_id,
        thread_id=query_text(request, "thread_id"),
        limit=limit,
        after=query_text(request, "after"),
    )
    return JSONResponse(list_resource(data, has_more=has_more))


async def retrieve_trace(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    trace_id = path_id(request, "trace_id")
    trace = await trace_store.get_trace(platform_of(request).db, project_id, trace_id)
    if trace is None:
        raise NotFound(f"No trace found with id '{trace_id}'.", param="trace_id")
    return JSONResponse(trace)


routes = [
    Route("/v1/chatkit/traces", list_traces, methods=["GET"]),
    Route("/v1/chatkit/traces/{trace_id}", retrieve_trace, methods=["GET"]),
]
