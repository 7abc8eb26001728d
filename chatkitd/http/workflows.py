"""Admin-key endpoints to manage a project's workflows (the CLI's ``workflows`` commands, over HTTP).

| method and path | does |
|---|---|
| ``GET /v1/chatkit/admin/workflows`` | a page of workflows, each with its latest version |
| ``GET /v1/chatkit/admin/workflows/{id}`` | a workflow, its latest version and how many it has |
| ``GET /v1/chatkit/admin/workflows/{id}/versions`` | a page of its versions |
| ``GET /v1/chatkit/admin/workflows/{id}/versions/{version}`` | one version's definition (and graph) |
| ``POST /v1/chatkit/admin/workflows`` | deploy ``{filename, definition, id?, version?}`` (YAML only) |
| ``POST /v1/chatkit/admin/workflows/{id}/rollback`` | ``{version}`` becomes the latest |
| ``POST /v1/chatkit/admin/workflows/{id}/archive`` | ``{archived: true/false}`` |

The lists page like every other (``after``, ``before``, ``limit``, ``order``: ``list_window``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatkitd.errors import InvalidRequest
from chatkitd.http.auth import admin_project
from chatkitd.http.body import json_object, list_window, path_id
from chatkitd.http.state import platform_of
from chatkitd.rest.input_policy import MAX_DEFINITION_CHARS
from chatkitd.store.rest_shapes import list_resource
from chatkitd.workflows import manage


def _text(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or "\x00" in value:
        raise InvalidRequest(f"'{name}' must be a non-empty string.", param=name)
    return value


async def list_workflows(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    window = list_window(request)
    data, has_more = await manage.list_workflows(platform_of(request).workflows, project_id, window)
    return JSONResponse(list_resource(data, has_more=has_more))


async def get_workflow(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    registry = platform_of(request).workflows
    return JSONResponse(await manage.get_workflow(registry, project_id, path_id(request, "workflow_id")))


async def list_versions(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    window = list_window(request)
    registry = platform_of(request).workflows
    workflow_id = path_id(request, "workflow_id")
    data, has_more = await manage.list_versions(registry, project_id, workflow_id, window)
    return JSONResponse(list_resource(data, has_more=has_more, key="version"))


async def get_version(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    registry = platform_of(request).workflows
    workflow_id, version = path_id(request, "workflow_id"), path_id(request, "version")
    return JSONResponse(await manage.get_version(registry, project_id, workflow_id, version))


async def deploy(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    body = await json_object(request)
    unknown = set(body) - {"filename", "definition", "id", "version"}
    if unknown:
        raise InvalidRequest(f"Unknown parameter: '{sorted(unknown)[0]}'.", param=sorted(unknown)[0])
    filename = _text(body, "filename") or ""
    definition = _text(body, "definition") or ""
    if len(definition) > MAX_DEFINITION_CHARS:
        raise InvalidRequest(f"'definition' is over {MAX_DEFINITION_CHARS} characters.", param="definition")
    version = body.get("version")
    if version is not None and (
        not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 10**9
    ):
        raise InvalidRequest("'version' must be a positive integer.", param="version")
    created = await manage.deploy(
        platform_of(request).workflows,
        project_id,
        filename,
        definition,
        workflow_id=_text(body, "id", required=False),
        version=version,
        allow_code=False,
    )
    return JSONResponse(manage.version_resource(created))


async def rollback(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    body = await json_object(request)
    version = body.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.isdigit():
        raise InvalidRequest("'version' must be a version number.", param="version")
    registry = platform_of(request).workflows
    chosen = await manage.rollback(registry, project_id, path_id(request, "workflow_id"), version)
    chosen.pop("definition", None)
    chosen.pop("graph", None)
    return JSONResponse(chosen)


async def archive(request: Request) -> JSONResponse:
    project_id = await admin_project(request)
    body = await json_object(request)
    archived = body.get("archived", True)
    if not isinstance(archived, bool):
        raise InvalidRequest("'archived' must be true or false.", param="archived")
    registry = platform_of(request).workflows
    return JSONResponse(await manage.archive(registry, project_id, path_id(request, "workflow_id"), archived))


routes = [
    Route("/v1/chatkit/admin/workflows", list_workflows, methods=["GET"]),
    Route("/v1/chatkit/admin/workflows", deploy, methods=["POST"]),
    Route("/v1/chatkit/admin/workflows/{workflow_id}", get_workflow, methods=["GET"]),
    Route("/v1/chatkit/admin/workflows/{workflow_id}/versions", list_versions, methods=["GET"]),
    Route("/v1/chatkit/admin/workflows/{workflow_id}/versions/{version}", get_version, methods=["GET"]),
    Route("/v1/chatkit/admin/workflows/{workflow_id}/rollback", rollback, methods=["POST"]),
    Route("/v1/chatkit/admin/workflows/{workflow_id}/archive", archive, methods=["POST"]),
]
