"""openai-chatkit: what chatkitd relies on inside ``ChatKitServer`` and ``stream_agent_response``.

- ``ChatKitServer.process`` parses a request and dispatches it in one go.
  chatkitd's server checks the parsed request first (bounds, locked threads,
  attachments), then dispatches through the same two private methods.
- Every object chatkit sends, streamed event or JSON answer, becomes bytes in
  one private method, ``_serialize``: chatkitd converts it there first
  (``OutgoingServer``), e.g. to make chatkit's naive local times UTC.
- ``AgentContext._events`` is the side queue ``stream_agent_response`` merges
  with the run's events. chatkit declares it with a queue instance as its
  default, which pydantic deep-copies for every context (about 0.1 ms a run);
  and when a run fails, its reader is left waiting on it.
- ``stream_agent_response`` starts by reading the thread's last two items
  (continuing an open task group it finds there, whose age it computes from
  a naive ``datetime.now()``), calls
  only ``stream_events()`` on the run result, acts on a known set of raw event
  types, and rejects openai 3.x's parsed annotation classes (as dicts they work).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from chatkit.agents import AgentContext
from chatkit.server import ChatKitServer
from chatkit.types import NonStreamingReq, Page, StreamingReq, WorkflowItem
from pydantic import BaseModel, PrivateAttr

TContext = TypeVar("TContext")


def dispatch_streaming(
    server: ChatKitServer[TContext], request: StreamingReq, context: TContext
) -> AsyncIterator[bytes]:
    """What ``process`` streams for an already parsed streaming request."""
    return server._process_streaming(request, context)


async def dispatch_non_streaming(
    server: ChatKitServer[TContext], request: NonStreamingReq, context: TContext
) -> bytes:
    """What ``process`` answers for an already parsed non-streaming request."""
    return await server._process_non_streaming(request, context)


class OutgoingServer(ChatKitServer[TContext]):
    """A ``ChatKitServer`` whose every outgoing object passes through ``outgoing`` first."""

    def outgoing(self, obj: BaseModel) -> BaseModel:
        return obj

    def _serialize(self, obj: BaseModel) -> bytes:
        return super()._serialize(self.outgoing(obj))


class AgentContextWithOwnQueue(AgentContext[Any]):
    """chatkit's ``AgentContext``, whose side queue is made by a factory instead of deep-copied."""

    _events: asyncio.Queue[Any] = PrivateAttr(default_factory=asyncio.Queue)


def wake_side_queue(context: AgentContext[Any]) -> None:
    """Unblock the side-queue reader of a run that failed, so no task outlives the stream.

    The item is one nobody reads: the stream has already ended. (chatkit's own
    sentinel would end the reader with an exception nobody retrieves.)
    """
    context._events.put_nowait(None)  # type: ignore[arg-type]


# ``stream_agent_response``'s first look at the thread: (after, limit, order).
FIRST_LOOK = (None, 2, "desc")


class Preloaded:
    """The store, answering ``stream_agent_response``'s first look from the history just read.

    A run has read the thread's newest items already, so one database round
    trip per run is saved.

    That first look is how chatkit continues a task group left open by the last
    run (a server tool, then a client tool): it keeps the stored item and later
    subtracts it from ``datetime.now()``, a naive local time. chatkitd's store
    answers UTC-aware times, so the continued item gets its time as chatkit
    stamps it (the same instant; the store and the wire make it UTC again).
    """

    def __init__(self, store: Any, thread_id: str, newest_first: Page[Any]) -> None:
        self._store = store
        self._thread_id = thread_id
        self._page: Page[Any] | None = newest_first

    async def load_thread_items(self, thread_id, after, limit, order, context):  # noqa: ANN001, ANN201
        page, self._page = self._page, None  # only the first look: later ones must see new items
        after_first, _, order_first = FIRST_LOOK
        first_look = (thread_id, after, order) == (self._thread_id, after_first, order_first)
        if page is not None and first_look:
            if limit <= len(page.data) or not page.has_more:
                data = [_local_time(item) for item in page.data[:limit]]
                return Page(data=data, has_more=page.has_more or limit < len(page.data))
        found = await self._store.load_thread_items(thread_id, after, limit, order, context)
        if first_look:
            found = Page(data=[_local_time(item) for item in found.data], has_more=found.has_more)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _local_time(item: Any) -> Any:
    """A task group with chatkit's kind of time (naive, local); anything else as it is."""
    if isinstance(item, WorkflowItem) and item.created_at.tzinfo is not None:
        return item.model_copy(update={"created_at": item.created_at.astimezone().replace(tzinfo=None)})
    return item


# The raw events chatkit's converter acts on; it skips every other one, so they
# need not pass through its merge (one task per event).
CONVERTED_EVENTS = frozenset(
    {
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_text.annotation.added",
        "response.output_item.added",
        "response.output_item.done",
        "response.image_generation_call.partial_image",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
    }
)


class ConverterInput:
    """A run result as chatkit's converter should see it.

    - Annotation events carry plain dicts: openai 3.x parses ``annotation``
      into an event-specific class that chatkit's converter rejects (the
      stream would fail); as a dict, URL citations reach the client.
    - Events the converter ignores are left out before its per-event merge.
    """

    def __init__(self, result: Any) -> None:
        self._result = result

    async def stream_events(self) -> AsyncIterator[Any]:
        async for event in self._result.stream_events():
            kind = event.type
            if kind == "raw_response_event":
                data = event.data
                if data.type not in CONVERTED_EVENTS:
                    continue
                if data.type == "response.output_text.annotation.added" and hasattr(
                    data.annotation, "model_dump"
                ):
                    data.annotation = data.annotation.model_dump()
            elif kind == "run_item_stream_event":
                if event.item.type != "tool_call_item":
                    continue
            else:
                continue
            yield event
