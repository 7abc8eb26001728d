"""Who is calling: admin keys for the REST API, client secrets for the conversation."""

from __future__ import annotations

from starlette.requests import Request

from chatkitd import log_context
from chatkitd.errors import Unauthenticated
from chatkitd.http.state import platform_of


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "Missing bearer token: send 'Authorization: Bearer <key>'.", code="missing_api_key"
        )
    return token.strip()


async def admin_project(request: Request) -> str:
    """The project of the admin key presented, or a 401."""
    token = bearer_token(request)
    project_id = await platform_of(request).project_for_admin_key(token)
    if project_id is None:
        raise Unauthenticated("Incorrect API key provided.", code="invalid_api_key")
    log_context.add(project=project_id)
    return project_id
