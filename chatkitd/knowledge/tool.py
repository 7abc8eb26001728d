"""``file_search``: chatkitd's vector stores as a function tool, so any model provider can search them.

It serves the YAML tool kind ``file_search``, the graph's ``file_search`` node
and the Agents SDK's hosted ``FileSearchTool`` in Python and exported
workflows (``from_hosted``). The run's project confines the search: a store of
another project is skipped as unknown. Each search is a ``file_search`` span
in the run's trace (query, stores, hits), and its hits are kept on the turn's
request context for ``chatkitd.knowledge.citations`` to annotate the answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from agents import FileSearchTool, FunctionTool
from agents.tool_context import ToolContext
from agents.tracing import custom_span
from sqlalchemy import select

from chatkitd.knowledge import tables, thread_uploads
from chatkitd.knowledge.requests import ComparisonFilter, CompoundFilter, Filter, RankingOptions
from chatkitd.knowledge.search import Hit
from chatkitd.knowledge.service import for_run
from chatkitd.knowledge.stores import of_project
from chatkitd.rest.validation import parse
from chatkitd.settings import Settings
from chatkitd.store.db import Database

NAME = "file_search"
DEFAULT_RESULTS = 10
HITS_KEY = "chatkitd.file_search.hits"  # in RequestContext.extras: this turn's hits, for citations
PARAMETERS = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "description": "What to look for, in the words the documents would use."}
    },
    "required": ["query"],
    "additionalProperties": False,
}


class RunEnvironment(Protocol):
    """What the tool needs from a workflow's environment; ``workflows.agent.RunEnvironment`` fits."""

    db: Database
    settings: Settings
    thread_uploads: Any  # ``workflows.definitions.ThreadUploadsConfig``: its ``index`` says search them


def _filter(filters: Any) -> Filter | None:
    if filters is None:
        return None
    raw = filters.model_dump() if hasattr(filters, "model_dump") else dict(filters)
    if raw.get("type") in ("and", "or"):
        return parse(CompoundFilter, raw)
    return parse(ComparisonFilter, raw)


def _threshold(ranking_options: Any) -> float:
    if ranking_options is None:
        return 0.0
    raw = (
        ranking_options.model_dump(exclude_none=True)
        if hasattr(ranking_options, "model_dump")
        else dict(ranking_options)
    )
    return parse(
        RankingOptions, {k: v for k, v in raw.items() if k in ("ranker", "score_threshold")}
    ).score_threshold


def hits_of(request_context: Any) -> list[Hit]:
    """The hits this turn's searches found, in the order the model was shown them."""
    extras = getattr(request_context, "extras", None)
    return extras.setdefault(HITS_KEY, []) if isinstance(extras, dict) else []


def format_hits(hits: list[Hit], first_number: int, notes: Sequence[str] = ()) -> str:
    said = [f"Note: {note}" for note in notes]
    if not hits:
        return "\n".join(["No results in the searched documents.", *said])
    parts = [
        "Results from the searched documents. Cite what you use with its number in brackets, e.g. "
        f"[{first_number}], right after the sentence it supports.",
        *said,
    ]
    for number, hit in enumerate(hits, start=first_number):
        parts.append(f"[{number}] {hit.filename} (score {hit.score:.2f})\n{hit.text}")
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Searched:
    hits: list[Hit]
    first: int  # the number the model sees for the first hit ([first], [first + 1], ...)
    unknown_store_ids: list[str]  # asked for, but not stores of the run's project
    notes: list[str] = field(default_factory=list)  # the thread's uploads not searched, and why


async def search(
    env: RunEnvironment,
    request_context: Any,
    vector_store_ids: Sequence[str],
    query: str,
    limit: int,
    condition: Filter | None = None,
    *,
    score_threshold: float = 0.0,
    thread_id: str | None = None,
) -> Searched:
    """Search the run's project's stores among ``vector_store_ids`` (and, given ``thread_id``,
    that thread's own uploads), in a ``file_search`` span.

    The hits join the turn's numbered hits (for citations). The tool and the graph's
    ``file_search`` node both search through here.
    """
    store_ids = list(dict.fromkeys(vector_store_ids))
    project_id = getattr(request_context, "project_id", None)
    knowledge = for_run(env.db, env.settings)
    with custom_span(NAME, data={"query": query, "vector_store_ids": store_ids}) as span:
        searchable = await _project_stores(env.db, project_id, store_ids)
        notes: list[str] = []
        if thread_id is not None and project_id is not None:
            own = await thread_uploads.thread_store_id(env.db, project_id, thread_id)
            if own is not None:
                # Files attached with this very message may still be read: wait for them (bounded).
                ready = await thread_uploads.wait_until_read(env.db, own, knowledge.worker.wake)
                notes = thread_uploads.readiness_notes(ready)
                searchable.append(own)
                span.span_data.data["thread_vector_store_id"] = own
        hits = await knowledge.searcher.search(
            searchable, [query], limit, condition, score_threshold=score_threshold
        )
        span.span_data.data["hits"] = [
            {"file_id": h.file_id, "filename": h.filename, "score": round(h.score, 4), "text": h.text[:300]}
            for h in hits
        ]
        unknown = [s for s in store_ids if s not in searchable]
        if unknown:
            span.span_data.data["unknown_vector_store_ids"] = unknown
    if searchable:
        await knowledge.stores.touch(searchable)
    shown = hits_of(request_context)
    first = len(shown) + 1
    shown.extend(hits)
    return Searched(hits, first, unknown, notes)


def file_search_tool(
    env: RunEnvironment,
    vector_store_ids: Sequence[str],
    *,
    max_num_results: int | None = None,
    filters: Any = None,
    ranking_options: Any = None,
    search_thread_uploads: bool = False,
) -> FunctionTool:
    """A ``file_search`` function tool over ``vector_store_ids`` (``filters`` and ``ranking_options`` as in
    OpenAI's API, as dicts or the SDK's types); with ``search_thread_uploads``, over the run's thread's own
    uploads too (``chatkitd.knowledge.thread_uploads``)."""
    store_ids = list(dict.fromkeys(vector_store_ids))
    limit = max_num_results or DEFAULT_RESULTS
    condition, threshold = _filter(filters), _threshold(ranking_options)

    async def on_invoke(ctx: ToolContext[Any], arguments: str) -> str:
        try:
            query = str(json.loads(arguments or "{}").get("query") or "").strip()
        except (json.JSONDecodeError, AttributeError):
            query = ""
        if not query:
            return "Call file_search with a non-empty 'query'."
        request_context = getattr(ctx.context, "request_context", None)
        thread = getattr(ctx.context, "thread", None) if search_thread_uploads else None
        searched = await search(
            env,
            request_context,
            store_ids,
            query,
            limit,
            condition,
            score_threshold=threshold,
            thread_id=getattr(thread, "id", None),
        )
        return format_hits(searched.hits, searched.first, searched.notes)

    searched_what = "this assistant's knowledge base"
    if search_thread_uploads:
        searched_what = (
            f"{searched_what} and the files the user attached in this conversation"
            if store_ids
            else "the files the user attached in this conversation"
        )
    description = (
        f"Search the documents in {searched_what} and return the most relevant passages, "
        "numbered so they can be cited."
    )
    return FunctionTool(
        name=NAME,
        description=description,
        params_json_schema=PARAMETERS,
        on_invoke_tool=on_invoke,
        strict_json_schema=True,
    )


def from_hosted(env: RunEnvironment, tool: FileSearchTool) -> FunctionTool:
    """The function tool standing in for the Agents SDK's hosted ``FileSearchTool`` (which searches
    the thread's uploads too when the workflow indexes them)."""
    return file_search_tool(
        env,
        tool.vector_store_ids,
        max_num_results=tool.max_num_results,
        filters=tool.filters,
        ranking_options=tool.ranking_options,
        search_thread_uploads=env.thread_uploads.index,
    )


async def _project_stores(db: Database, project_id: str | None, store_ids: list[str]) -> list[str]:
    """The ids among ``store_ids`` that are stores of the run's project (none without a project)."""
    if project_id is None or not store_ids:
        return []
    S = tables.vector_stores
    async with db.read() as conn:
        found = set(
            (await conn.scalars(select(S.c.id).where(*of_project(project_id), S.c.id.in_(store_ids)))).all()
        )
    return [store_id for store_id in store_ids if store_id in found]
