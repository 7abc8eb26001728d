"""Writing threads and items through the same ``Store`` methods the runtime uses.

Every builder returns protocol items (``chatkit.types``); the REST tests read
them back through the SDK, so the mapping in ``chatkitd.store.rest_shapes`` is
exercised exactly as the runtime's writes will exercise it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from chatkit.types import (
    Annotation,
    AssistantMessageContent,
    AssistantMessageItem,
    ClientToolCallItem,
    CustomTask,
    EndOfTurnItem,
    EntitySource,
    FileAttachment,
    FileSource,
    HiddenContextItem,
    InferenceOptions,
    SDKHiddenContextItem,
    TaskItem,
    ThoughtTask,
    ThreadItem,
    ThreadMetadata,
    ThreadStatus,
    URLSource,
    UserMessageItem,
    UserMessageTagContent,
    UserMessageTextContent,
    WidgetItem,
    Workflow,
    WorkflowItem,
)
from chatkit.widgets import Card, Text

from chatkitd import ids
from chatkitd.context import RequestContext
from chatkitd.store.keys import ensure_project
from chatkitd.store.threads import ThreadStore


async def project_context(store: ThreadStore, project: str, user: str) -> RequestContext:
    return RequestContext(project_id=await ensure_project(store.db, project), user=user)


async def make_thread(
    store: ThreadStore,
    context: RequestContext,
    title: str | None = None,
    status: ThreadStatus | None = None,
) -> ThreadMetadata:
    thread = ThreadMetadata(id=store.generate_thread_id(context), created_at=datetime.now(), title=title)
    if status is not None:
        thread.status = status
    await store.save_thread(thread, context)
    return thread


def _base(store: ThreadStore, thread: ThreadMetadata, context: RequestContext) -> dict[str, Any]:
    return {
        "id": store.generate_item_id("message", thread, context),
        "thread_id": thread.id,
        "created_at": datetime.now(),
    }


def user_message(
    store: ThreadStore,
    thread: ThreadMetadata,
    context: RequestContext,
    text: str,
    quoted_text: str | None = None,
    tag: str | None = None,
) -> UserMessageItem:
    content: list[Any] = [UserMessageTextContent(text=text)]
    if tag is not None:
        content.append(UserMessageTagContent(id="tag_1", text=tag, data={"k": "v"}))
    return UserMessageItem(
        **_base(store, thread, context),
        content=content,
        quoted_text=quoted_text,
        inference_options=InferenceOptions(),
    )


def assistant_message(
    store: ThreadStore,
    thread: ThreadMetadata,
    context: RequestContext,
    text: str,
    annotated: bool = False,
) -> AssistantMessageItem:
    annotations = []
    if annotated:
        annotations = [
            Annotation(source=URLSource(title="Docs", url="https://example.com/docs"), index=1),
            Annotation(source=FileSource(title="Report", filename="report.pdf"), index=2),
            Annotation(source=EntitySource(title="Ada", id="ent_1"), index=3),
        ]
    return AssistantMessageItem(
        **_base(store, thread, context),
        content=[AssistantMessageContent(text=text, annotations=annotations)],
    )


def widget(store: ThreadStore, thread: ThreadMetadata, context: RequestContext) -> WidgetItem:
    return WidgetItem(**_base(store, thread, context), widget=Card(children=[Text(value="Hello widget")]))


def client_tool_call(
    store: ThreadStore,
    thread: ThreadMetadata,
    context: RequestContext,
    output: Any = None,
) -> ClientToolCallItem:
    return ClientToolCallItem(
        **_base(store, thread, context),
        status="pending" if output is None else "completed",
        call_id="call_1",
        name="get_location",
        arguments={"precise": True, "n": 2},
        output=output,
    )


def task(store: ThreadStore, thread: ThreadMetadata, context: RequestContext) -> TaskItem:
    return TaskItem(
        **_base(store, thread, context),
        task=CustomTask(title="Searching", content="Looked in three places"),
    )


def workflow(store: ThreadStore, thread: ThreadMetadata, context: RequestContext) -> WorkflowItem:
    return WorkflowItem(
        **_base(store, thread, context),
        workflow=Workflow(
            type="reasoning",
            tasks=[
                ThoughtTask(title="Thinking", content="Considered options"),
                CustomTask(title="Step", content=None),
            ],
        ),
    )


def hidden_items(store: ThreadStore, thread: ThreadMetadata, context: RequestContext) -> list[ThreadItem]:
    """One of each item kind the REST API never lists."""
    return [
        HiddenContextItem(**_base(store, thread, context), content={"secret": "context"}),
        SDKHiddenContextItem(**_base(store, thread, context), content="sdk context"),
        EndOfTurnItem(**_base(store, thread, context)),
    ]


async def add_items(
    store: ThreadStore, thread: ThreadMetadata, context: RequestContext, items: Sequence[ThreadItem]
) -> None:
    for item in items:
        await store.add_thread_item(thread.id, item, context)


async def attach_file(
    store: ThreadStore, thread: ThreadMetadata, context: RequestContext, content: bytes
) -> FileAttachment:
    """An attachment record and its bytes, as the upload path stores them."""
    attachment = FileAttachment(
        id=ids.new_id(ids.ATTACHMENT),
        name="notes.txt",
        mime_type="text/plain",
        thread_id=thread.id,
        metadata={"size": len(content), "uploaded": True},
    )
    await store.save_attachment(attachment, context)

    async def chunks() -> AsyncIterator[bytes]:
        yield content

    await store.blobs.write(context.project_id, attachment.id, chunks(), limit=len(content))
    return attachment
