"""The built-in ``demo`` workflow: offline, deterministic, needing no model.

It answers from keywords in the user's message (whole words or their plurals,
any case; the first match in this table wins), so tests, the bench and the web UI can make
it produce every item kind the REST API lists:

| the message contains | the demo answers with |
|---|---|
| `fail` | raises; the runtime sends an `error` event with `allow_retry: true` |
| `slow` | a long message streamed a word every 50 ms (~10 s), to test cancelling |
| `lock` / `close` | a reply, then the thread is `locked` / `closed` with a reason |
| `tool` | a client tool call `get_client_info`; after `threads.add_client_tool_output`, |
|        | a reply quoting the output |
| `widget` | a Card counting clicks. Its "Click" button's `demo.increment` action comes |
|          | back as `threads.custom_action` (card replaced, reply streamed); "Click (sync)" |
|          | as `threads.sync_custom_action` (the updated card is returned) |
| `think` | a task group (`workflow` item) of a thought and a custom task, then a reply |
| `task` | two task items (custom and thought), then a reply |
| `progress` | three `progress_update` events, then a reply |
| `question` | a structured input item; after `threads.add_structured_input`, a reply |
|            | listing the answers |
| `state` | a reply with the session's `state_variables` and the request's locale |
| anything else | `Echo: <text>` streamed word by word, with a URL annotation |
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from chatkit.actions import Action
from chatkit.errors import CustomStreamError
from chatkit.types import (
    Annotation,
    ClientToolCallItem,
    ClosedStatus,
    CustomSummary,
    CustomTask,
    LockedStatus,
    ProgressUpdateEvent,
    StructuredInputFreeform,
    StructuredInputItem,
    StructuredInputMultipleChoice,
    StructuredInputMultipleChoiceOption,
    SyncCustomActionResponse,
    TaskItem,
    ThoughtTask,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    URLSource,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
    WorkflowItem,
    WorkflowTaskAdded,
    WorkflowTaskUpdated,
)
from chatkit.types import Workflow as TaskGroup
from chatkit.widgets import WidgetRoot
from pydantic import TypeAdapter

from chatkitd import clock
from chatkitd.context import RequestContext
from chatkitd.errors import InvalidRequest
from chatkitd.store.threads import ThreadStore
from chatkitd.workflows.base import Workflow, declared_action
from chatkitd.workflows.events import chunk_words, stream_assistant_message

# Deltas of one answer, at most: an echo of a long message streams several words per delta.
MAX_DELTAS = 1000

DOCS_URL = "https://openai.github.io/chatkit-python/"
SLOW_WORDS = 200
SLOW_DELAY = 0.05
INCREMENT = "demo.increment"
_widgets: TypeAdapter[WidgetRoot] = TypeAdapter(WidgetRoot)
KEYWORDS = (
    "fail",
    "slow",
    "lock",
    "close",
    "tool",
    "widget",
    "think",
    "task",
    "progress",
    "question",
    "state",
)


def message_text(item: UserMessageItem) -> str:
    return " ".join(part.text for part in item.content if isinstance(part, UserMessageTextContent))


def keyword(text: str) -> str | None:
    """The first keyword the text holds as a word or its plural ("tasks" runs ``task``)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    words |= {word[:-1] for word in words if word.endswith("s")}
    return next((word for word in KEYWORDS if word in words), None)


def counter_widget(count: int) -> WidgetRoot:
    # Built from a dict: chatkit deprecates instantiating its widget classes directly.
    def button(label: str, streaming: bool) -> dict[str, Any]:
        action = {"type": INCREMENT, "payload": {"count": count}, "streaming": streaming}
        return {"type": "Button", "label": label, "onClickAction": action}

    return _widgets.validate_python(
        {
            "type": "Card",
            "children": [
                {"type": "Title", "value": "Demo counter"},
                {"type": "Text", "id": "count", "value": f"Clicked {count} times"},
                {"type": "Row", "children": [button("Click", True), button("Click (sync)", False)]},
            ],
        }
    )


class DemoWorkflow(Workflow):
    id = "demo"
    version = "1"

    def _new_id(self, kind: Any, thread: ThreadMetadata, context: RequestContext, store: ThreadStore) -> str:
        return store.generate_item_id(kind, thread, context)

    def _say(
        self,
        text: str,
        thread: ThreadMetadata,
        context: RequestContext,
        store: ThreadStore,
        annotations: tuple[Annotation, ...] = (),
        delay: float = 0.0,
    ) -> AsyncIterator[ThreadStreamEvent]:
        item_id = self._new_id("message", thread, context, store)
        # Word by word, as a model streams; a long echo in at most MAX_DELTAS deltas of several words.
        per_delta = text.count(" ") // MAX_DELTAS + 1
        return stream_assistant_message(item_id, thread.id, chunk_words(text, per_delta), annotations, delay)

    async def respond(
        self,
        thread: ThreadMetadata,
        item: UserMessageItem | None,
        context: RequestContext,
        store: ThreadStore,
    ) -> AsyncIterator[ThreadStreamEvent]:
        if item is None:
            async for event in self._resume(thread, context, store):
                yield event
            return
        text = message_text(item)
        say = self._say
        match keyword(text):
            case "fail":
                raise RuntimeError("The demo workflow was asked to fail.")
            case "slow":
                words = " ".join(f"word{n}" for n in range(1, SLOW_WORDS + 1))
                async for event in say(words, thread, context, store, delay=SLOW_DELAY):
                    yield event
            case "lock" | "close" as kind:
                state = "locked" if kind == "lock" else "closed"
                async for event in say(f"This thread is now {state}.", thread, context, store):
                    yield event
                reason = f"The demo workflow {state} this thread on request."
                thread.status = LockedStatus(reason=reason) if kind == "lock" else ClosedStatus(reason=reason)
            case "tool":
                yield ThreadItemDoneEvent(item=self._tool_call(thread, context, store))
            case "widget":
                widget = WidgetItem(
                    id=self._new_id("message", thread, context, store),
                    thread_id=thread.id,
                    created_at=clock.now(),
                    widget=counter_widget(0),
                    copy_text="Demo counter: clicked 0 times",
                )
                yield ThreadItemDoneEvent(item=widget)
            case "think":
                async for event in self._task_group(thread, context, store):
                    yield event
                async for event in say("Done thinking.", thread, context, store):
                    yield event
            case "task":
                for task in (
                    CustomTask(title="Looked things up", content="Found the demo's notes.", icon="search"),
                    ThoughtTask(title="Weighed the options", content="The demo always picks the first."),
                ):
                    task_item = TaskItem(
                        id=self._new_id("task", thread, context, store),
                        thread_id=thread.id,
                        created_at=clock.now(),
                        task=task,
                    )
                    yield ThreadItemDoneEvent(item=task_item)
                async for event in say("Both tasks are done.", thread, context, store):
                    yield event
            case "progress":
                for step in ("Reading your message", "Thinking", "Writing the answer"):
                    yield ProgressUpdateEvent(icon="sparkle", text=step)
                    await asyncio.sleep(0)
                async for event in say("Finished after three steps.", thread, context, store):
                    yield event
            case "question":
                yield ThreadItemDoneEvent(item=self._question(thread, context, store))
            case "state":
                state = json.dumps((context.session.state_variables if context.session else None) or {})
                reply = f"State variables: {state}; locale: {context.locale or 'unknown'}"
                async for event in say(reply, thread, context, store):
                    yield event
            case _:
                source = URLSource(title="ChatKit Python", url=DOCS_URL)
                reply = f"Echo: {text}"
                annotation = Annotation(source=source, index=len(reply))
                async for event in say(reply, thread, context, store, annotations=(annotation,)):
                    yield event

    async def _resume(
        self, thread: ThreadMetadata, context: RequestContext, store: ThreadStore
    ) -> AsyncIterator[ThreadStreamEvent]:
        """After a client tool's output or a structured input: answer using it."""
        recent = await store.load_thread_items(thread.id, None, 5, "desc", context)
        for previous in recent.data:
            if isinstance(previous, ClientToolCallItem) and previous.status == "completed":
                text = f"The client tool {previous.name} answered: {json.dumps(previous.output)}"
                break
            if isinstance(previous, StructuredInputItem) and previous.status != "pending":
                answers = "; ".join(
                    f"{q.id}={','.join(q.answer.values) if q.answer and q.answer.values else '(skipped)'}"
                    for q in previous.inputs
                )
                text = f"You answered: {answers}"
                break
        else:
            text = "There is nothing to continue."
        async for event in self._say(text, thread, context, store):
            yield event

    def _tool_call(
        self, thread: ThreadMetadata, context: RequestContext, store: ThreadStore
    ) -> ClientToolCallItem:
        item_id = self._new_id("tool_call", thread, context, store)
        return ClientToolCallItem(
            id=item_id,
            thread_id=thread.id,
            created_at=clock.now(),
            call_id=f"call_{item_id.rpartition('_')[2][:16]}",
            name="get_client_info",
            arguments={"fields": ["locale", "time"]},
        )

    def _question(
        self, thread: ThreadMetadata, context: RequestContext, store: ThreadStore
    ) -> StructuredInputItem:
        colours = [StructuredInputMultipleChoiceOption(value=v) for v in ("red", "green", "blue")]
        return StructuredInputItem(
            id=self._new_id("message", thread, context, store),
            thread_id=thread.id,
            created_at=clock.now(),
            inputs=[
                StructuredInputMultipleChoice(id="colour", question="Pick a colour", options=colours),
                StructuredInputFreeform(id="name", question="What should I call you?"),
            ],
        )

    async def _task_group(
        self, thread: ThreadMetadata, context: RequestContext, store: ThreadStore
    ) -> AsyncIterator[ThreadStreamEvent]:
        group = WorkflowItem(
            id=self._new_id("workflow", thread, context, store),
            thread_id=thread.id,
            created_at=clock.now(),
            workflow=TaskGroup(type="custom", tasks=[], expanded=True),
        )
        yield ThreadItemAddedEvent(item=group)
        tasks = [
            ThoughtTask(
                title="Considering the question",
                content="It asks the demo to think.",
                status_indicator="loading",
            ),
            CustomTask(
                title="Checking the notes",
                content="The notes say: answer briefly.",
                status_indicator="loading",
            ),
        ]
        for index, task in enumerate(tasks):
            yield ThreadItemUpdatedEvent(
                item_id=group.id, update=WorkflowTaskAdded(task_index=index, task=task)
            )
        for index, task in enumerate(tasks):
            tasks[index] = task.model_copy(update={"status_indicator": "complete"})
            yield ThreadItemUpdatedEvent(
                item_id=group.id, update=WorkflowTaskUpdated(task_index=index, task=tasks[index])
            )
        done = TaskGroup(
            type="custom", tasks=tasks, expanded=False, summary=CustomSummary(title="Thought it through")
        )
        yield ThreadItemDoneEvent(item=group.model_copy(update={"workflow": done}))

    def check_action(self, action_type: str) -> None:
        """An action the demo does not have is a 400 before anything streams, as for every workflow."""
        declared_action(self.id, {INCREMENT: INCREMENT}, action_type)

    def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: ThreadStore,
    ) -> AsyncIterator[ThreadStreamEvent]:
        return self._action(thread, action, sender, context, store)

    async def _action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: ThreadStore,
    ) -> AsyncIterator[ThreadStreamEvent]:
        count = self._incremented(action)
        if count is None:
            raise CustomStreamError(f"The demo does not know the action {action.type!r}.")
        if sender is not None:
            widget = sender.model_copy(update={"widget": counter_widget(count)})
            yield ThreadItemReplacedEvent(item=widget)
        async for event in self._say(f"Clicked {count} times.", thread, context, store):
            yield event

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: ThreadStore,
    ) -> SyncCustomActionResponse:
        count = self._incremented(action)
        if count is None:
            raise InvalidRequest(
                f"The demo does not know the action {action.type!r}.", param="params.action.type"
            )
        if sender is None:
            raise InvalidRequest("The demo counter needs the widget's item_id.", param="params.item_id")
        widget = sender.model_copy(update={"widget": counter_widget(count)})
        # The sync path has no event pipeline to persist the change, so save it here.
        await store.save_item(thread.id, widget, context)
        return SyncCustomActionResponse(updated_item=widget)

    @staticmethod
    def _incremented(action: Action[str, Any]) -> int | None:
        if action.type != INCREMENT:
            return None
        payload = action.payload if isinstance(action.payload, dict) else {}
        count = payload.get("count", 0)
        return (count if isinstance(count, int) else 0) + 1
