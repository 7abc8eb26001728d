"""Between a thread and an Agents SDK run: history as the run's input, the run's events as the chat's.

The adapters that let chatkitd use ``chatkit.agents.stream_agent_response``
as is (they rely on chatkit's and the SDK's internals) live in ``chatkitd.compat``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

from agents import RunResultStreaming
from chatkit.agents import ThreadItemConverter, stream_agent_response
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    ThreadItemDoneEvent,
    ThreadStreamEvent,
    UserMessageTagContent,
)
from openai.types.responses import EasyInputMessageParam, ResponseInputTextParam

from chatkitd.compat.agents import ItemIds
from chatkitd.compat.chatkit import ConverterInput, wake_side_queue
from chatkitd.knowledge.citations import annotate
from chatkitd.tools.web_search import cite
from chatkitd.workflows.context import WorkflowRunContext


async def chat_events(
    run_context: WorkflowRunContext, result: RunResultStreaming
) -> AsyncIterator[ThreadStreamEvent]:
    """A streamed run's events as the chat shows them, for every kind of workflow that runs agents.

    chatkit's converter makes the items; chatkitd gives them its own ids, and
    puts the file citations (``file_search`` hits the answer cites) and the
    URL citations (web search results) on the answer.
    """
    context = run_context.request_context
    ids = ItemIds(run_context.store, run_context.thread, context)
    # chatkit annotates RunResultStreaming but only calls stream_events(), which ConverterInput provides.
    converted = cast(RunResultStreaming, ConverterInput(result))
    async for event in stream_agent_response(run_context, converted):
        ids.fix(event)
        if isinstance(event, ThreadItemDoneEvent) and isinstance(event.item, AssistantMessageItem):
            annotate(event.item, context)
        if run_context.web_sources.results:
            for cited in cite(event, run_context.web_sources):
                yield cited
        else:
            yield event


async def run_events(
    run_context: WorkflowRunContext, result: RunResultStreaming, shown: bool = True
) -> AsyncGenerator[ThreadStreamEvent, None]:
    """One streamed agent run, for every kind of workflow that runs agents: shown, its events
    as the chat shows them (``chat_events``); not shown (a classifier's JSON, a widget made of
    its output), run to the end with nothing said. A failure wakes chatkit's side-queue reader,
    and a run left unfinished (a failure, a client gone) is cancelled, so that it does not go
    on, and pay for tokens, in the background. Iterate it inside ``contextlib.aclosing`` so
    that closing the caller closes it at once."""
    try:
        if shown:
            async for event in chat_events(run_context, result):
                yield event
        else:
            async for _ in result.stream_events():
                pass
    except BaseException:
        # chatkit leaves its side-queue reader waiting when the run fails.
        wake_side_queue(run_context)
        raise
    finally:
        if not result.is_complete:
            result.cancel()


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
