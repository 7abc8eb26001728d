"""Web search back ends: a SearXNG instance, Brave Search and Tavily, behind one small interface.

Each back end takes a query and gives ``SearchResult``s (title, URL,
snippet). They are plain HTTP APIs called with ``httpx2`` (the HTTP client
the ``openai`` SDK already brings); keys come from the server's environment,
never from a workflow. Add a back end by adding a class and a line to
``BACKENDS`` (a test fails until it has a test of its own).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2

# What the search engine is asked for: never more than this many results.
MAX_RESULTS = 20


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str


class SearchError(RuntimeError):
    """The back end did not answer usefully; the model reads the message."""


class SearchBackend(Protocol):
    name: str

    async def search(self, query: str, max_results: int) -> list[SearchResult]: ...


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx2.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _client() -> httpx2.AsyncClient:
    """One connection pool per event loop, shared by every search."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = httpx2.AsyncClient(follow_redirects=False)
    return client


def _key(variable: str) -> str:
    key = os.environ.get(variable)
    if not key:
        raise SearchError(f"web search is not configured: the server's environment lacks {variable}")
    return key


async def _json(engine: str, method: str, url: str, timeout: float, **request: Any) -> Any:
    try:
        response = await _client().request(method, url, timeout=timeout, **request)
    except httpx2.TimeoutException:
        raise SearchError(f"{engine} did not answer within {timeout:g} s") from None
    except httpx2.HTTPError as error:
        raise SearchError(f"{engine} is unreachable ({type(error).__name__})") from None
    if response.status_code != 200:
        raise SearchError(f"{engine} answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise SearchError(f"{engine} answered something that is not JSON") from None


def _results(items: Any, title: str, url: str, snippet: str) -> list[SearchResult]:
    found = []
    for item in items if isinstance(items, list) else []:
        if (
            isinstance(item, dict)
            and isinstance(item.get(url), str)
            and item[url].startswith(("http://", "https://"))
        ):
            found.append(
                SearchResult(
                    title=str(item.get(title) or item[url]),
                    url=item[url],
                    snippet=str(item.get(snippet) or ""),
                )
            )
    return found


@dataclass(frozen=True)
class Searxng:
    """A SearXNG instance's JSON API (``format=json`` must be enabled in its settings)."""

    url: str
    timeout: float
    name: str = "searxng"

    async def search(self, query: str, max_results: int) -> list[SearchResult]:
        url = f"{self.url.rstrip('/')}/search"
        data = await _json("SearXNG", "GET", url, self.timeout, params={"q": query, "format": "json"})
        return _results(data.get("results") if isinstance(data, dict) else None, "title", "url", "content")[
            :max_results
        ]


@dataclass(frozen=True)
class Brave:
    """Brave Search's web search API; the key is in ``api_key_env`` (default ``BRAVE_API_KEY``)."""

    url: str
    api_key_env: str
    timeout: float
    name: str = "brave"

    async def search(self, query: str, max_results: int) -> list[SearchResult]:
        data = await _json(
            "Brave Search",
            "GET",
            self.url,
            self.timeout,
            params={"q": query, "count": max_results},
            headers={"X-Subscription-Token": _key(self.api_key_env), "Accept": "application/json"},
        )
        web = data.get("web") if isinstance(data, dict) else None
        return _results(web.get("results") if isinstance(web, dict) else None, "title", "url", "description")[
            :max_results
        ]


@dataclass(frozen=True)
class Tavily:
    """Tavily's search API; the key is in ``api_key_env`` (default ``TAVILY_API_KEY``)."""

    url: str
    api_key_env: str
    timeout: float
    name: str = "tavily"

    async def search(self, query: str, max_results: int) -> list[SearchResult]:
        data = await _json(
            "Tavily",
            "POST",
            self.url,
            self.timeout,
            json={"query": query, "max_results": max_results},
            headers={"Authorization": f"Bearer {_key(self.api_key_env)}"},
        )
        return _results(data.get("results") if isinstance(data, dict) else None, "title", "url", "content")[
            :max_results
        ]


@dataclass(frozen=True)
class BackendSpec:
    """How a back end is built: its class, its public endpoint (None: the operator must give one),
    and the environment variable holding its key (None: it needs none)."""

    make: Any
    default_url: str | None
    default_key_env: str | None


BACKENDS: dict[str, BackendSpec] = {
    "searxng": BackendSpec(Searxng, None, None),
    "brave": BackendSpec(Brave, "https://api.search.brave.com/res/v1/web/search", "BRAVE_API_KEY"),
    "tavily": BackendSpec(Tavily, "https://api.tavily.com/search", "TAVILY_API_KEY"),
}


def build_backend(name: str, url: str | None, api_key_env: str | None, timeout: float) -> SearchBackend:
    spec = BACKENDS[name]
    endpoint = url or spec.default_url
    if endpoint is None:
        raise ValueError(f"the {name} web search back end needs a `url` (or CHATKITD_SEARXNG_URL)")
    if spec.default_key_env is None:
        return spec.make(url=endpoint, timeout=timeout)
    return spec.make(url=endpoint, api_key_env=api_key_env or spec.default_key_env, timeout=timeout)
