"""Writing threads and items through the same ``Store`` methods the runtime uses."""

from __future__ import annotations

from datetime import datetime

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)

from chatkitd.context import RequestContext
from chatkitd.store.keys import ensure_project
from chatkitd.store.threads import ThreadStore


async def project_context(store: ThreadStore, project: str, user: str) -> RequestContext:
    return RequestContext(project_id=await ensure_project(store.db, project), user=user)


async def make_thread(
    store: ThreadStore, context: RequestContext, title: str | None = None
) -> ThreadMetadata:
    thread = ThreadMetadata(id=store.generate_thread_id(context), created_at=datetime.now(), title=title)
    await store.save_thread(thread, context)
    return thread


def user_message(store: ThreadStore, thread: ThreadMetadata, context: RequestContext, text: str):
    return UserMessageItem(
        id=store.generate_item_id("message", thread, context),
        thread_id=thread.id,
        created_at=datetime.now(),
        content=[UserMessageTextContent(text=text)],
        inference_options=InferenceOptions(),
    )


def assistant_message(store: ThreadStore, thread: ThreadMetadata, context: RequestContext, text: str):
    return AssistantMessageItem(
        id=store.generate_item_id("message", thread, context),
        thread_id=thread.id,
        created_at=datetime.now(),
        content=[AssistantMessageContent(text=text)],
    )
