"""The web UI's routes: ``/static``, the playground at ``/``, the admin console at ``/admin``,
and the development-only ``POST /playground/session``.

The pages carry a Content-Security-Policy that allows only this server, which
is how the UI promises to work with no internet: nothing else can even load.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from chatkitd.errors import NotFound
from chatkitd.http import admin
from chatkitd.http.body import json_object
from chatkitd.rest.sessions import create_session, session_resource
from chatkitd.store.keys import DEFAULT_PROJECT, ensure_project
from chatkitd.web import STATIC_DIR, TEMPLATES_DIR
from chatkitd.web.playground import playground_session_body

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'"
)


def _page(name: str) -> HTMLResponse:
    html = (TEMPLATES_DIR / name).read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"content-security-policy": CSP, "cache-control": "no-cache"})


async def playground_page(request: Request) -> HTMLResponse:
    return _page("playground.html")


async def admin_page(request: Request) -> HTMLResponse:
    return _page("admin.html")


async def playground_session(request: Request) -> JSONResponse:
    """Mint a session for the playground user. Development mode only: a 404 otherwise."""
    platform = request.app.state.platform
    if not platform.settings.is_development:
        raise NotFound("Unknown route.", code="unknown_route")
    raw = await json_object(request) if await request.body() else {}
    body = playground_session_body(raw)
    project_id = await ensure_project(platform.db, DEFAULT_PROJECT)
    record, secret = await create_session(platform.db, platform.workflows, project_id, body)
    return JSONResponse(session_resource(record, secret))


routes = [
    *admin.routes,
    Route("/", playground_page, methods=["GET"]),
    Route("/admin", admin_page, methods=["GET"]),
    Route("/playground/session", playground_session, methods=["POST"]),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
