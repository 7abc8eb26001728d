"""openai-agents: the placeholder id its Chat Completions models give every streamed message.

Those models stream each message under ``FAKE_RESPONSES_ID`` (from a module
the SDK does not document), and chatkit reuses a model's message id as the
item id, so two messages of one run would collide in the store. ``ItemIds``
gives them real ids, event by event.
"""

from __future__ import annotations

from typing import Any

from agents.models.fake_id import FAKE_RESPONSES_ID as FAKE_RESPONSES_ID
from chatkit.types import ThreadItemAddedEvent, ThreadItemDoneEvent, ThreadItemUpdatedEvent, ThreadStreamEvent


class ItemIds:
    """Replaces the placeholder id of streamed messages with the store's own ids."""

    def __init__(self, store: Any, thread: Any, context: Any) -> None:
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
