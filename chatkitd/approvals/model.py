"""What the approvals core passes around: a question put to a person, an answer, a resumption."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The widget's buttons send this action type (``threads.custom_action``); the
# conversation server routes it to the approvals core, never to a workflow.
ANSWER_ACTION = "chatkitd.approval"

Decision = Literal["approve", "reject"]


class ApprovalRequest(BaseModel):
    """One question put to the person in the chat.

    ``key`` is the caller's own name for it (a tool call's id, a graph node's
    id): answers come back under it. For a tool, ``tool``, ``server`` and
    ``arguments`` say exactly what will run; a graph node sets ``question``.
    """

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    title: str
    question: str | None = None
    tool: str | None = None
    server: str | None = None
    arguments: Any = None
    approve_label: str = "Approve"
    reject_label: str = "Reject"


@dataclass(frozen=True)
class Answer:
    """A person's answer to one request."""

    key: str
    approval_id: str
    approved: bool
    answered_by: str
    answered_at: float
    reason: str | None = None


@dataclass(frozen=True)
class Resumption:
    """Everything a workflow needs to go on after the last answer of a pause.

    ``state`` is exactly what the workflow gave ``pause``; ``answers`` has one
    entry per request, in the order they were asked.
    """

    pause_id: str
    kind: str
    state: str
    workflow_id: str
    workflow_version: str
    trace_id: str | None
    answers: list[Answer] = field(default_factory=list)
    requests: list[ApprovalRequest] = field(default_factory=list)

    def answer_for(self, key: str) -> Answer | None:
        return next((a for a in self.answers if a.key == key), None)
