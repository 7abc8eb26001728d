"""The web UI's routes: ``/static``, the playground at ``/``, the admin console at ``/admin``,
and the development-only ``POST /playground/session`` and ``GET /playground/workflows/{id}``.

The pages carry a Content-Security-Policy that allows only this server, which
is how the UI promises to work with no internet: nothing else can even load.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from chatkitd.errors import InvalidRequest, NotFound, PermissionDenied
from chatkitd.http import admin, workflows
from chatkitd.http.body import json_object, path_id
from chatkitd.http.state import platform_of
from chatkitd.rest.sessions import create_session, session_resource
from chatkitd.store.keys import DEFAULT_PROJECT, ensure_project
from chatkitd.web import NOT_BUILT, STATIC_DIR, TEMPLATES_DIR, is_built
from chatkitd.web.playground import playground_session_body

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'"
)


def _page(name: str) -> HTMLResponse:
    if not is_built():
        # The API works without the UI; the pages say how to build it instead of loading nothing.
        return HTMLResponse(f"<!doctype html><title>chatkitd</title><p>{NOT_BUILT}</p>", status_code=503)
    html = (TEMPLATES_DIR / name).read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"content-security-policy": CSP, "cache-control": "no-cache"})


async def playground_page(request: Request) -> HTMLResponse:
    """The playground in development mode; in production, where it cannot mint sessions, a page
    saying what this server is and where the admin console is."""
    if not platform_of(request).settings.is_development:
        return _page("home.html")
    return _page("playground.html")


async def admin_page(request: Request) -> HTMLResponse:
    return _page("admin.html")


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _is_local(request: Request) -> bool:
    """Whether the caller is a page of this server, on this machine.

    Binding to loopback is not enough: a reverse proxy on the same host makes
    every request come from 127.0.0.1 (but adds a forwarding header), a
    DNS-rebound name reaches it with a foreign Host, and another site's page can
    post to it (the browser says so in Sec-Fetch-Site).
    """
    headers = request.headers
    if any(name in headers for name in ("forwarded", "x-forwarded-for", "x-real-ip")):
        return False
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    return _loopback(request.client.host if request.client else None) and _loopback(request.url.hostname)


def _playground_only(request: Request) -> None:
    """The playground's routes: development mode (a 404 otherwise), this machine's own pages only."""
    if not platform_of(request).settings.is_development:
        raise NotFound("Unknown route.", code="unknown_route")
    if not _is_local(request):
        raise PermissionDenied(
            "The playground's routes answer only this server's own pages, on this machine.",
            code="not_local",
        )


async def playground_session(request: Request) -> JSONResponse:
    """Mint a session for the playground user. Development mode only: a 404 otherwise."""
    platform = platform_of(request)
    _playground_only(request)
    raw = await json_object(request) if await request.body() else {}
    body = playground_session_body(raw)
    project_id = await ensure_project(platform.db, DEFAULT_PROJECT)
    record, secret = await create_session(platform.db, platform.workflows, project_id, body)
    return JSONResponse(session_resource(record, secret))


async def playground_workflow(request: Request) -> JSONResponse:
    """The composer's choices for a workflow of the default project (``?version=``, else the latest):
    its models and tools, in ChatKit.js's ``composer.models`` and ``composer.tools`` shapes, and
    whether dictation can answer (``composer.dictation``)."""
    platform = platform_of(request)
    _playground_only(request)
    workflow_id = path_id(request, "workflow_id")
    version = request.query_params.get("version") or None
    if version is not None and ("\x00" in version or len(version) > 20):
        raise InvalidRequest("'version' must be a version number.", param="version")
    project_id = await ensure_project(platform.db, DEFAULT_PROJECT)
    resolved = await platform.workflows.resolve(project_id, workflow_id, version)
    workflow = await platform.workflows.load(project_id, resolved.id, resolved.version)
    choices = workflow.composer_choices()
    return JSONResponse(
        {
            "object": "chatkit.playground.workflow",
            "id": resolved.id,
            "version": resolved.version,
            "models": [{"id": m, "label": m, "default": i == 0} for i, m in enumerate(choices.models)],
            "tools": [{"id": t, "label": t, "icon": "bolt"} for t in choices.tools],
            "dictation": platform.conversation.dictation_available(workflow),
        }
    )


_files = StaticFiles(directory=STATIC_DIR, check_dir=False)


async def static_files(scope: Scope, receive: Receive, send: Send) -> None:
    """The built bundles; until they are built, a 404 saying how (not StaticFiles' 500)."""
    if not is_built():
        await JSONResponse(
            {
                "error": {
                    "message": NOT_BUILT,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "web_ui_not_built",
                }
            },
            status_code=404,
        )(scope, receive, send)
        return

    async def public(message: Message) -> None:
        # The bundles, their lazily imported modules (rich.js) and KaTeX's fonts are public: any
        # page may load them. A module import and a font from another origin need CORS, so a page
        # whose conversation goes through its own backend (CHATKITD_CORS_ORIGINS unset) gets
        # code colours and math too. (CHATKITD_CORS_ORIGINS's middleware names an allowed origin
        # instead, which is as good.) Never credentialed, so `*` is safe.
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("access-control-allow-origin", "*")
            headers.setdefault("cross-origin-resource-policy", "cross-origin")
        await send(message)

    await _files(scope, receive, public)


routes = [
    *admin.routes,
    *workflows.routes,
    Route("/", playground_page, methods=["GET"]),
    Route("/admin", admin_page, methods=["GET"]),
    Route("/playground/session", playground_session, methods=["POST"]),
    Route("/playground/workflows/{workflow_id}", playground_workflow, methods=["GET"]),
    Mount("/static", static_files, name="static"),
]
