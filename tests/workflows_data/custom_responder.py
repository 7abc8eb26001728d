"""A Python workflow with full control: a Workflow subclass that answers by itself."""

from datetime import datetime

from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadItemDoneEvent

from chatkitd.workflows.base import Workflow

ID = "custom-responder"


class Shouter(Workflow):
    async def respond(self, thread, item, context, store):
        text = "".join(part.text for part in item.content).upper()
        yield ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=datetime.now(),
                content=[AssistantMessageContent(text=f"{text}! (v{self.version})")],
            )
        )


WORKFLOW = Shouter
