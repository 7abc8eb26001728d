"""Adapters between an Agents SDK run, chatkit's converter and chatkitd's store.

Each fixes one mismatch between the libraries as installed; together they
let ``AgentWorkflow`` use ``chatkit.agents.stream_agent_response`` as is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agents.models.fake_id import FAKE_RESPONSES_ID
from chatkit.agents import ThreadItemConverter
from chatkit.store import Page
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageTagContent,
)
from openai.types.responses import EasyInputMessageParam, ResponseInputTextParam


class HistoryConverter(ThreadItemConverter):
    """History to model input. Attachments and tags become text: no file leaves the server."""

    async def attachment_to_message_content(self, attachment: Attachment) -> Any:
        return ResponseInputTextParam(
            type="input_text", text=f"[The user attached a file: {attachment.name}]"
        )

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> Any:
        return ResponseInputTextParam(type="input_text", text=f"@{tag.text}: {tag.data}")

    async def assistant_message_to_input(self, item: AssistantMessageItem) -> Any:
        # Plain text content: chatkit's `output_text` parts are refused by the SDK's
        # Chat Completions converter, and a string works for every provider.
        return EasyInputMessageParam(
            type="message", role="assistant", content="".join(part.text for part in item.content)
        )


class Preloaded:
    """The store, answering chatkit's look at the thread's last items from the history just read.

    ``stream_agent_response`` starts by reading the last two items; the run
    has read them already, so one database round trip per run is saved.
    """

    def __init__(self, store: Any, thread_id: str, newest_first: Page[Any]) -> None:
        self._store = store
        self._thread_id = thread_id
        self._page: Page[Any] | None = newest_first

    async def load_thread_items(self, thread_id, after, limit, order, context):  # noqa: ANN001, ANN201
        page, self._page = self._page, None  # only the first look: later ones must see new items
        if page is not None and (thread_id, after, order) == (self._thread_id, None, "desc"):
            if limit <= len(page.data) or not page.has_more:
                return Page(data=page.data[:limit], has_more=page.has_more or limit < len(page.data))
        return await self._store.load_thread_items(thread_id, after, limit, order, context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class PlainAnnotations:
    """A run result whose annotation events carry plain dicts.

    openai 3.x parses ``annotation`` into an event-specific class that
    chatkit's converter rejects; as a dict it converts (URL citations
    reach the client as annotations instead of failing the stream).
    """

    def __init__(self, result: Any) -> None:
        self._result = result

    async def stream_events(self) -> AsyncIterator[Any]:
        async for event in self._result.stream_events():
            data = getattr(event, "data", None)
            if getattr(data, "type", None) == "response.output_text.annotation.added":
                annotation = data.annotation
                if hasattr(annotation, "model_dump"):
                    data.annotation = annotation.model_dump()
            yield event


async def unique_ids(
    events: AsyncIterator[ThreadStreamEvent], store: Any, thread: ThreadMetadata, context: Any
) -> AsyncIterator[ThreadStreamEvent]:
    """Give items from Chat Completions models real ids.

    Those models stream every message under the SDK's placeholder id, and
    chatkit reuses a model's message id as the item id; two messages would
    then collide in the store.
    """
    current: str | None = None
    async for event in events:
        if isinstance(event, ThreadItemAddedEvent) and event.item.id == FAKE_RESPONSES_ID:
            current = store.generate_item_id("message", thread, context)
            event.item.id = current
        elif isinstance(event, ThreadItemUpdatedEvent) and event.item_id == FAKE_RESPONSES_ID:
            event.item_id = current or event.item_id
        elif isinstance(event, ThreadItemDoneEvent) and event.item.id == FAKE_RESPONSES_ID:
            event.item.id = current or store.generate_item_id("message", thread, context)
            current = None
        yield event
