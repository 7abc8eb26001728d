"""The user_approval node: the run waits for a person's Approve or Reject, durably.

It asks through the approvals core (``chatkitd.approvals``), the one
mechanism tool approvals use too: the card in the chat, the pause stored
with the run's position, one answer winning across processes, who answered
and when on the card and in the trace, and a new message cancelling the
question. The answer resumes the run in whichever process receives it, on
the version that asked, at ``on_approve`` or ``on_reject``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from chatkit.types import ThreadStreamEvent

from chatkitd.approvals import ApprovalRequest, Resumption
from chatkitd.workflows.graph.cel import Compiler
from chatkitd.workflows.graph.nodes.base import NO_EVENTS, NodeId, NodeSpec, Step
from chatkitd.workflows.graph.run import GraphRun


class UserApproval(NodeSpec):
    kind = "user_approval"
    type: Literal["user_approval"]
    message: str = "Do you approve?"
    approve_label: str = "Approve"
    reject_label: str = "Reject"
    on_approve: NodeId | None = None
    on_reject: NodeId | None = None

    def edges(self) -> list[tuple[str, str]]:
        pairs = (("approve", self.on_approve), ("reject", self.on_reject))
        return [(label, target) for label, target in pairs if target]

    def compile(self, compiler: Compiler) -> Any:
        return compiler.template(self.message)

    def talks(self) -> bool:
        return True

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        message = compiled.render(run.activation())
        question = ApprovalRequest(
            key=self.id, title=message, approve_label=self.approve_label, reject_label=self.reject_label
        )
        return Step(run.last, None, {"message": message}, keep_input=True, ask=[question])

    async def resume(
        self, compiled: Any, run: GraphRun, kept: dict[str, Any], resumption: Resumption
    ) -> AsyncIterator[ThreadStreamEvent]:
        answer = resumption.answer_for(self.id)
        approved = answer is not None and answer.approved
        output = {
            "approved": approved,
            "answered_by": answer.answered_by if answer else None,
            "reason": answer.reason if answer else None,
        }
        branch = "approve" if approved else "reject"
        run.step = Step(output, self.on_approve if approved else self.on_reject, {"branch": branch})
        for event in NO_EVENTS:  # it says nothing in the chat
            yield event
