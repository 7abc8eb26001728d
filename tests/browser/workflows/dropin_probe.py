"""A workflow for the drop-in tests: it says exactly what the chat sent, and sends what a page must hear.

- ``effect:<name>`` sends the client effect ``<name>`` with ``{"n": 1}``, then "Effect sent".
- ``link`` answers with a ``chatkit-link://`` deeplink in its markdown.
- anything else answers ``Got text=<text> tags=<id:title,...> quoted=<quoted text> model=<model>
  tool=<tool id> files=<names>``, so a test sees what the element put in the request.

Deployed into the browser tests' servers through ``CHATKITD_WORKFLOWS_DIR``.
"""

from chatkit.types import ClientEffectEvent

from chatkitd.workflows.base import Workflow
from chatkitd.workflows.events import stream_assistant_message

ID = "dropin-probe"


def describe(item) -> str:
    text = "".join(getattr(part, "text", "") for part in item.content if part.type == "input_text")
    tags = ",".join(f"{part.id}:{part.text}" for part in item.content if part.type == "input_tag")
    options = item.inference_options
    model = options.model if options else None
    tool = options.tool_choice.id if options and options.tool_choice else None
    files = ",".join(attachment.name for attachment in item.attachments)
    quoted = item.quoted_text or ""
    return f"Got text={text} tags={tags} quoted={quoted} model={model or ''} tool={tool or ''} files={files}"


class DropinProbe(Workflow):
    async def respond(self, thread, item, context, store):
        text = "".join(getattr(part, "text", "") for part in item.content) if item else ""
        if text.startswith("effect:"):
            yield ClientEffectEvent(name=text[7:], data={"n": 1})
            answer = "Effect sent"
        elif text == "link":
            answer = "Open [order 42](chatkit-link://orders/open?id=42) now"
        else:
            answer = describe(item)
        item_id = store.generate_item_id("message", thread, context)
        async for event in stream_assistant_message(item_id, thread.id, [answer]):
            yield event


WORKFLOW = DropinProbe
