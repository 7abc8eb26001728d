"""``GET /healthz``: 200 once migrations have run and the database answers."""

from __future__ import annotations

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatkitd.http.state import platform_of


async def healthz(request: Request) -> JSONResponse:
    async with platform_of(request).db.read() as conn:
        await conn.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})


routes = [Route("/healthz", healthz, methods=["GET"])]
