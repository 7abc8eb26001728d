"""How a thread's history becomes an Agents SDK run's input.

The adapters that let ``AgentWorkflow`` use ``chatkit.agents.stream_agent_response``
as is (they rely on chatkit's and the SDK's internals) live in ``chatkitd.compat``.
"""

from __future__ import annotations

from typing import Any

from chatkit.agents import ThreadItemConverter
from chatkit.types import AssistantMessageItem, Attachment, UserMessageTagContent
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
