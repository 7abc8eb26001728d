"""Health for orchestrators and proxies: liveness apart from readiness.

- ``GET /livez``: the process answers. Nothing else is asked, so a database or
  object-store outage never gets a healthy replica restarted.
- ``GET /readyz``: this replica can serve: migrations have run, the database
  answers and the file store (folder or bucket) is reachable. Otherwise a 503
  in the error envelope, ``database_unavailable`` or ``storage_unavailable``,
  with ``Retry-After``: take it out of the proxy's rotation until it recovers.
- ``GET /healthz``: readiness, under the name it always had.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatkitd.blobs import BlobUnavailable
from chatkitd.http.state import platform_of

# A store that hangs is as unready as one that refuses; probes come every few seconds.
STORAGE_CHECK_SECONDS = 5.0


async def livez(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    platform = platform_of(request)
    # A database error reaches the error handler: a 503 with Retry-After, logged once per outage.
    async with platform.db.read() as conn:
        await conn.execute(text("SELECT 1"))
    try:
        await asyncio.wait_for(platform.blobs.check(), STORAGE_CHECK_SECONDS)
    except (TimeoutError, OSError) as error:
        raise BlobUnavailable(f"{platform.blobs.description}: {error or 'no answer in time'}") from error
    return JSONResponse({"status": "ok", "database": "ok", "storage": "ok"})


routes = [
    Route("/livez", livez, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/healthz", readyz, methods=["GET"]),
]
