"""Adapters between an Agents SDK run, chatkit's converter and chatkitd's store.

Each fixes one mismatch between the libraries as installed; together they
let ``AgentWorkflow`` use ``chatkit.agents.stream_agent_response`` as is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agents.models.fake_id import FAKE_RESPONSES_ID
from chatkit.agents import ThreadItemConverter
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    Page,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageTagContent,
)
from openai.types.responses import EasyInputMessageParam, ResponseInputTextParam


class HistoryConverter(ThreadItemConverter):
    """History to model input. Attachments become what the model can read of them
    (``chatkitd.knowledge.attachment_inputs``), or a note naming the file; tags become text."""

    def __init__(self, attachments: Any = None) -> None:
        self.attachments = attachments  # an AttachmentInputs for this run, or None: notes only

    async def attachment_to_message_content(self, attachment: Attachment) -> Any:
        if self.attachments is not None:
            return await self.attachments.content(attachment)
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


# The raw events chatkit's converter acts on; it skips every other one, so they
# need not pass through its merge (one task per event).
_CONVERTED = frozenset(
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
    """The run result as chatkit's converter should see it.

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
                if data.type not in _CONVERTED:
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


class ItemIds:
    """Gives items from Chat Completions models real ids, event by event.

    Those models stream every message under the SDK's placeholder id, and
    chatkit reuses a model's message id as the item id; two messages would
    then collide in the store.
    """

    def __init__(self, store: Any, thread: ThreadMetadata, context: Any) -> None:
        self._new_id = lambda: store.generate_item_id("message", thread, context)
        self._current: str | None = None

    def fix(self, event: ThreadStreamEvent) -> None:
        if isinstance(event, ThreadItemUpdatedEvent):
            if event.item_id == FAKE_RESPONSES_ID:
                event.item_id = self._current or event.item_id
        elif isinstance(event, ThreadItemAddedEvent):
            if event.item.id == FAKE_RESPONSES_ID:
                self._current = event.item.id = self._new_id()
        elif isinstance(event, ThreadItemDoneEvent) and event.item.id == FAKE_RESPONSES_ID:
            event.item.id = self._current or self._new_id()
            self._current = None
