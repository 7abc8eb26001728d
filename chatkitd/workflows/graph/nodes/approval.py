"""The user_approval node: the run pauses on a question with Approve and Reject, durably.

The run's position is saved with the thread (``chatkitd.workflows.graph.state``)
and the chat shows a card whose buttons send ``threads.custom_action``; the
answer resumes the run in whichever process receives it, also after a restart.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

from chatkit.types import ThreadItemDoneEvent, ThreadStreamEvent, WidgetItem
from chatkit.widgets import WidgetRoot
from pydantic import TypeAdapter

from chatkitd.workflows.graph.cel import Compiler
from chatkitd.workflows.graph.nodes.base import NodeId, NodeSpec, Step
from chatkitd.workflows.graph.run import GraphRun

APPROVAL_ACTION = "chatkitd.graph.approval"
_widgets: TypeAdapter[WidgetRoot] = TypeAdapter(WidgetRoot)


def approval_card(message: str, token: str, answer: str | None = None) -> WidgetRoot:
    """The question with its two buttons; once answered, the answer instead of the buttons."""

    def button(label: str, value: str, style: str) -> dict[str, Any]:
        action = {"type": APPROVAL_ACTION, "payload": {"token": token, "answer": value}}
        return {"type": "Button", "label": label, "style": style, "onClickAction": action}

    footer: dict[str, Any]
    if answer is None:
        footer = {
            "type": "Row",
            "children": [button("Approve", "approve", "primary"), button("Reject", "reject", "secondary")],
        }
    else:
        footer = {
            "type": "Text",
            "value": "Approved" if answer == "approve" else "Rejected",
            "weight": "semibold",
        }
    return _widgets.validate_python(
        {"type": "Card", "children": [{"type": "Text", "value": message}, footer]}
    )


class UserApproval(NodeSpec):
    kind = "user_approval"
    quiet = False
    type: Literal["user_approval"]
    message: str = "Do you approve?"
    on_approve: NodeId | None = None
    on_reject: NodeId | None = None

    def edges(self) -> list[tuple[str, str]]:
        pairs = (("approve", self.on_approve), ("reject", self.on_reject))
        return [(label, target) for label, target in pairs if target]

    def compile(self, compiler: Compiler) -> Any:
        return compiler.template(self.message)

    async def run(self, compiled: Any, run: GraphRun) -> AsyncIterator[ThreadStreamEvent]:
        message = compiled.render(run.activation())
        token = secrets.token_hex(16)
        item = WidgetItem(
            id=run.new_item_id(),
            thread_id=run.thread.id,
            created_at=datetime.now(),
            widget=approval_card(message, token),
            copy_text=message,
        )
        run.said_anything = True
        run.item_ids.append(item.id)
        yield ThreadItemDoneEvent(item=item)
        detail = {"message": message, "token": token, "item_id": item.id}
        run.step = Step(run.last, None, detail, pause=True, keep_input=True)

    def resume(self, answer: str) -> Step:
        approved = answer == "approve"
        target = self.on_approve if approved else self.on_reject
        return Step({"approved": approved}, target, {"answer": answer, "branch": answer})
