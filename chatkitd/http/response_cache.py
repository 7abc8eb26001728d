"""REST read responses replayed from memory until the database next changes.

Backends and dashboards poll the same pages over and over (a user's thread
list, a thread's newest items), and between two polls nothing has usually
changed. The database says cheaply whether anything has
(``Database.change_count``): a number that moves whenever a change REST reads
could show commits, in this process or another (counters kept by triggers on
threads, items and keys; on SQLite read only after ``PRAGMA data_version``
says something committed, on PostgreSQL read once for all the requests
waiting). Chat admissions and session records are not such changes. So a
response is replayed while that number stands still, and every response is
dropped the moment it moves. No write has to know
which pages it touched.

Nothing replayed is stale: a request is answered under a number read after it
arrived, so any write acknowledged before then has moved it; and a response is
kept under a number read before its data was, so its data is at least that
new. A response kept under N is replayed only to requests that read N again,
when nothing has changed since it was read.

A response is kept only when its endpoint asked for it (``cacheable``) and it
succeeded, under the exact request: credential, path and query string. A hit
skips routing and the handler, never authentication: revoking a key is a
counted change, which empties the cache. It is bounded by bytes (bodies, keys
and headers), evicting the least recently replayed first.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_KEEP = "chatkitd.response_cache.keep"  # set by an endpoint whose answer may be replayed

Key = tuple[bytes, str, bytes]
# What an entry costs beyond the bytes counted: the key tuple, the dicts and lists.
_ENTRY_OVERHEAD = 512


@dataclass(frozen=True, slots=True)
class Kept:
    start: Message  # http.response.start, replayed with a fresh header list
    body: bytes
    route: Any  # the matched route, for the request metrics' label
    size: int  # what it holds in memory, as counted against the budget

    @classmethod
    def of(cls, key: Key, start: Message, body: bytes, route: Any) -> Kept:
        header_bytes = sum(len(name) + len(value) for name, value in start["headers"])
        size = len(key[1]) + len(key[2]) + header_bytes + len(body) + _ENTRY_OVERHEAD
        return cls(start, body, route, size)


class ResponseCache:
    def __init__(self, version: Callable[[], Awaitable[int | None]], max_bytes: int) -> None:
        """``version()`` is the database's change count, or None when it keeps none."""
        self._version_of_database = version
        self.max_bytes = max_bytes
        self._responses: OrderedDict[Key, Kept] = OrderedDict()
        self._version: int | None = None
        self.bytes_held = 0
        self.hits = 0
        self.misses = 0

    async def version(self) -> int | None:
        """The current version, or None when nothing may be kept; empties a stale cache."""
        version = await self._version_of_database() if self.max_bytes > 0 else None
        if version != self._version:
            self._responses.clear()
            self.bytes_held = 0
            self._version = version
        return version

    def get(self, key: Key) -> Kept | None:
        """The response kept under ``key`` at the version just taken."""
        response = self._responses.get(key)
        if response is None:
            self.misses += 1
        else:
            self.hits += 1
            self._responses.move_to_end(key)
        return response

    def put(self, key: Key, version: int, response: Kept) -> None:
        """Keep a response whose data was read after ``version`` was taken."""
        # Such data is at least that new, so it is never kept under an older
        # version than its own; if the database moved since, it is not kept at all.
        if version != self._version or response.size > self.max_bytes:
            return
        previous = self._responses.pop(key, None)
        if previous is not None:
            self.bytes_held -= previous.size
        self._responses[key] = response
        self.bytes_held += response.size
        while self.bytes_held > self.max_bytes:
            _, evicted = self._responses.popitem(last=False)
            self.bytes_held -= evicted.size


def cacheable(request: Request) -> None:
    """Let the response about to be returned for ``request`` be replayed."""
    request.scope[_KEEP] = True


def _credential(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            # Hashed, so no credential is held in memory longer than its request.
            return hashlib.sha256(value).digest()
    return None


class ResponseCacheMiddleware:
    """Replays kept GET responses under ``prefix``; keeps the ones endpoints mark."""

    def __init__(self, app: ASGIApp, cache: ResponseCache, prefix: str) -> None:
        self.app = app
        self.cache = cache
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        credential = _credential(scope)
        version = await self.cache.version() if credential is not None else None
        if credential is None or version is None:
            await self.app(scope, receive, send)
            return
        key = (credential, scope["path"], scope["query_string"])
        kept = self.cache.get(key)
        if kept is not None:
            scope["route"] = kept.route  # what the metrics label the request with
            # A fresh header list each time: middleware outside (CORS) adds to it.
            await send({**kept.start, "headers": list(kept.start["headers"])})
            await send({"type": "http.response.body", "body": kept.body})
            return
        await self.app(scope, receive, self._keeping(scope, send, key, version))

    def _keeping(self, scope: Scope, send: Send, key: Key, version: int) -> Send:
        start: Message | None = None

        async def send_and_keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = {**message, "headers": list(message.get("headers", []))}
            elif message["type"] == "http.response.body" and start is not None:
                # Only a whole answer in one message is kept; a stream never is.
                whole = not message.get("more_body", False)
                if whole and scope.get(_KEEP) and start["status"] == 200:
                    body = message.get("body", b"")
                    self.cache.put(key, version, Kept.of(key, start, body, scope.get("route")))
                start = None
            await send(message)

        return send_and_keep
