"""A Python workflow with full control: a Workflow subclass that answers by itself."""

from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadItemDoneEvent

from chatkitd import clock
from chatkitd.workflows.base import Workflow

ID = "custom-responder"


class Shouter(Workflow):
    async def respond(self, thread, item, context, store):
        text = "".join(part.text for part in item.content)
        # A step of its own in the run's trace.
        with context.run_trace.span("shout", {"letters": len(text)}):
            text = text.upper()
        yield ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=clock.now(),
                content=[AssistantMessageContent(text=f"{text}! (v{self.version})")],
            )
        )


WORKFLOW = Shouter
