"""``POST /v1/chatkit/sessions`` and ``POST /v1/chatkit/sessions/{id}/cancel``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatkitd.errors import NotFound
from chatkitd.http.auth import admin_project
from chatkitd.http.body import json_object, path_id
from chatkitd.http.state import platform_of
from chatkitd.rest import sessions
from chatkitd.rest.validation import parse
from chatkitd.store import sessions as session_store


async def create_session(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    body = parse(sessions.SessionCreateBody, await json_object(request))
    platform = platform_of(request)
    record, secret = await sessions.create_session(platform.db, platform.workflows, project_id, body)
    return JSONResponse(sessions.session_resource(record, secret))


async def cancel_session(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    session_id = path_id(request, "session_id")
    record = await session_store.cancel_session(platform_of(request).db, session_id, project_id)
    if record is None:
        raise NotFound(f"No session found with id '{session_id}'.", param="session_id")
    return JSONResponse(sessions.session_resource(record))


routes = [
    Route("/v1/chatkit/sessions", create_session, methods=["POST"]),
    Route("/v1/chatkit/sessions/{session_id}/cancel", cancel_session, methods=["POST"]),
]
