"""The ``web_search`` tool an agent gets: OpenAI's hosted search, or a back end chatkitd calls.

On OpenAI's Responses API the hosted ``WebSearchTool`` runs (its answers
carry their own citations). On any other model, chatkitd searches with the
configured back end: the model gets numbered results to cite, the run's
``Sources`` keep them for the citations (``citations.cite``), and the trace
gets a ``web_search`` span with the query and the results.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from agents import FunctionTool, Tool, WebSearchTool
from agents.tool_context import ToolContext
from agents.tracing import SpanError, custom_span

from chatkitd.settings import Settings
from chatkitd.tools.web_search.backends import SearchBackend, SearchError, SearchResult, build_backend
from chatkitd.tools.web_search.citations import Sources
from chatkitd.tools.web_search.config import WebSearchConfig

logger = logging.getLogger(__name__)

NAME = "web_search"
DESCRIPTION = (
    "Search the web for current information. Returns numbered results with their URLs; "
    "cite a result as [n] right after the sentence it supports."
)
PARAMETERS = {
    "type": "object",
    "properties": {"query": {"type": "string", "description": "What to search for."}},
    "required": ["query"],
    "additionalProperties": False,
}


def web_search_tool(config: WebSearchConfig, settings: Settings, *, hosted_available: bool) -> Tool:
    """The tool for a workflow: ``hosted_available`` says the model is on OpenAI's Responses API."""
    backend = config.backend
    if backend == "openai" or (backend == "auto" and hosted_available):
        if not hosted_available:
            raise ValueError("`backend: openai` is OpenAI's hosted web search: it needs the OpenAI provider")
        filters = {"allowed_domains": config.allowed_domains} if config.allowed_domains else None
        return WebSearchTool(search_context_size=config.search_context_size, filters=filters)
    if backend == "auto":
        backend = settings.web_search_backend or ""
        if not backend:
            raise ValueError(
                "web_search has no back end for this model: set CHATKITD_WEB_SEARCH_BACKEND "
                "or the tool's `backend` (searxng, brave, tavily)"
            )
    url = config.url or (settings.searxng_url if backend == "searxng" else None)
    return search_tool(build_backend(backend, url, config.api_key_env, config.timeout), config)


def from_hosted(tool: WebSearchTool) -> WebSearchConfig:
    """The configuration of an Agents SDK ``WebSearchTool``, for when it cannot run hosted."""
    filters = tool.filters
    domains = list(getattr(filters, "allowed_domains", None) or []) if filters is not None else []
    return WebSearchConfig(search_context_size=tool.search_context_size, allowed_domains=domains)


def _allowed(result: SearchResult, domains: list[str]) -> bool:
    host = (urlsplit(result.url).hostname or "").lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in domains)


def _listing(results: list[SearchResult], first: int) -> str:
    if not results:
        return "No results."
    return "\n\n".join(
        f"[{number}] {result.title}\n{result.url}\n{result.snippet}".rstrip()
        for number, result in enumerate(results, start=first)
    )


def search_tool(backend: SearchBackend, config: WebSearchConfig) -> FunctionTool:
    domains = config.allowed_domains

    async def on_invoke(ctx: ToolContext[Any], arguments: str) -> str:
        try:
            query = str(json.loads(arguments or "{}").get("query", "")).strip()
        except (ValueError, AttributeError):
            query = ""
        if not query:
            return "Give web_search a query."
        with custom_span(NAME, data={"backend": backend.name, "query": query}) as span:
            try:
                found = await backend.search(query, config.max_results * (3 if domains else 1))
            except SearchError as error:
                span.set_error(SpanError(message="Web search failed", data={"error": str(error)}))
                return f"Web search failed: {error}"
            except Exception as error:  # noqa: BLE001 - a broken back end is the model's tool error
                logger.exception("web search with %s failed", backend.name)
                span.set_error(SpanError(message="Web search failed", data={"error": type(error).__name__}))
                return "Web search failed."
            results = [r for r in found if not domains or _allowed(r, domains)][: config.max_results]
            span.span_data.data["results"] = [asdict(r) for r in results]
        sources = getattr(ctx.context, "web_sources", None)
        first = sources.add(results) if isinstance(sources, Sources) else 1
        return _listing(results, first)

    return FunctionTool(
        name=NAME,
        description=DESCRIPTION,
        params_json_schema=PARAMETERS,
        on_invoke_tool=on_invoke,
        strict_json_schema=True,
    )
