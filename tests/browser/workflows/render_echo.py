"""A workflow for the browser tests: it answers with exactly what the test asks the chat to show.

- ``md:<markdown>`` streams the markdown back verbatim, a few characters per delta,
  so half-written tables, code fences and formulas reach the renderer; ``slow:<markdown>``
  does the same with a pause before each delta, so a test can watch it arrive.
- ``widget:<json>`` answers with that widget tree (a root that is not a Card,
  ListView or Basic is wrapped in a Basic).
- A widget action answers ``action <type> <payload as JSON>``; a sync action
  replaces the widget with a Text saying the same.
- Anything else: ``Echo: <message>``.

Deployed into the browser tests' server through ``CHATKITD_WORKFLOWS_DIR``.
"""

import json
from datetime import UTC, datetime

from chatkit.types import SyncCustomActionResponse, ThreadItemDoneEvent, WidgetItem
from chatkit.widgets import DynamicWidgetRoot

from chatkitd.workflows.base import Workflow
from chatkitd.workflows.events import stream_assistant_message

ID = "render-echo"
ROOTS = {"Card", "ListView", "Basic"}


def _chunks(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _widget_item(tree: dict, thread, context, store) -> WidgetItem:
    if tree.get("type") not in ROOTS:
        tree = {"type": "Basic", "children": [tree]}
    return WidgetItem(
        id=store.generate_item_id("message", thread, context),
        thread_id=thread.id,
        created_at=datetime.now(UTC),
        widget=DynamicWidgetRoot.model_validate(tree),
    )


class RenderEcho(Workflow):
    async def respond(self, thread, item, context, store):
        text = "".join(getattr(part, "text", "") for part in item.content) if item else ""
        if text.startswith("widget:"):
            yield ThreadItemDoneEvent(item=_widget_item(json.loads(text[7:]), thread, context, store))
            return
        delay = 0.04 if text.startswith("slow:") else 0.0
        if text.startswith(("md:", "slow:")):
            answer = text.split(":", 1)[1]
        else:
            answer = f"Echo: {text}"
        item_id = store.generate_item_id("message", thread, context)
        async for event in stream_assistant_message(item_id, thread.id, _chunks(answer), delay=delay):
            yield event

    async def action(self, thread, action, sender, context, store):
        text = f"action {action.type} {json.dumps(action.payload, sort_keys=True)}"
        item_id = store.generate_item_id("message", thread, context)
        async for event in stream_assistant_message(item_id, thread.id, [text]):
            yield event

    async def sync_action(self, thread, action, sender, context, store):
        text = f"sync {action.type} {json.dumps(action.payload, sort_keys=True)}"
        updated = sender.model_copy(
            update={
                "widget": DynamicWidgetRoot.model_validate(
                    {"type": "Card", "children": [{"type": "Text", "value": text}]}
                )
            }
        )
        await store.save_item(thread.id, updated, context)
        return SyncCustomActionResponse(updated_item=updated)


WORKFLOW = RenderEcho
