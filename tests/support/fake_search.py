"""Fake web search engines over real HTTP on loopback: SearXNG's, Brave's and Tavily's API shapes.

Each answers with the same three results for any query, in its own format,
checks the key the way the real service does, and records what it was sent.
``fail`` makes every engine answer HTTP 500; ``delay`` makes it slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.servers import free_port

KEY = "fake-search-key"
RESULTS = [
    ("ChatKit release notes", "https://docs.example.com/chatkit/releases", "ChatKit 1.6 adds widgets."),
    ("Self-hosting ChatKit", "https://blog.example.org/self-hosting", "Run ChatKit on your own servers."),
    ("Unrelated", "https://spam.example.net/offer", "Buy now."),
]


@dataclass
class FakeSearch:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False
    delay: float = 0.0


def app(fake: FakeSearch) -> Starlette:
    async def record(request: Request, engine: str) -> Response | None:
        body = await request.json() if request.method == "POST" else None
        fake.requests.append(
            {
                "engine": engine,
                "query": dict(request.query_params),
                "body": body,
                "headers": dict(request.headers),
            }
        )
        if fake.delay:
            await asyncio.sleep(fake.delay)
        return Response("engine down", status_code=500) if fake.fail else None

    async def searxng(request: Request) -> Response:
        if (failed := await record(request, "searxng")) is not None:
            return failed
        if request.query_params.get("format") != "json":
            return Response("html only", status_code=403)
        return JSONResponse({"results": [{"title": t, "url": u, "content": s} for t, u, s in RESULTS]})

    async def brave(request: Request) -> Response:
        if (failed := await record(request, "brave")) is not None:
            return failed
        if request.headers.get("x-subscription-token") != KEY:
            return JSONResponse({"error": "bad token"}, status_code=401)
        count = int(request.query_params.get("count", "20"))
        return JSONResponse(
            {"web": {"results": [{"title": t, "url": u, "description": s} for t, u, s in RESULTS][:count]}}
        )

    async def tavily(request: Request) -> Response:
        if (failed := await record(request, "tavily")) is not None:
            return failed
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return JSONResponse({"error": "bad key"}, status_code=401)
        body = fake.requests[-1]["body"] or {}
        rows = [{"title": t, "url": u, "content": s, "score": 0.9} for t, u, s in RESULTS]
        return JSONResponse({"query": body.get("query"), "results": rows[: int(body.get("max_results", 5))]})

    return Starlette(
        routes=[
            Route("/searxng/search", searxng),
            Route("/res/v1/web/search", brave),
            Route("/search", tavily, methods=["POST"]),
        ]
    )


@contextlib.contextmanager
def fake_search() -> Iterator[FakeSearch]:
    port = free_port()
    fake = FakeSearch(f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(app(fake), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake search did not start")
        time.sleep(0.02)
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(10)
