"""Runs that wait for a person: approval cards in the chat, durable pauses, resumption on any process.

Workflows use ``pause`` to wait and implement ``Workflow.resume`` to go on;
the conversation server routes answers (``threads.custom_action`` of type
``ANSWER_ACTION``) through ``answer``. See ``chatkitd.approvals.core``.
"""

from chatkitd.approvals.core import (
    PENDING_KEY,
    Answered,
    answer,
    answer_spans,
    cancel_pending,
    is_answer,
    pause,
    resumed,
)
from chatkitd.approvals.model import ANSWER_ACTION, Answer, ApprovalRequest, Resumption

__all__ = [
    "ANSWER_ACTION",
    "PENDING_KEY",
    "Answer",
    "Answered",
    "ApprovalRequest",
    "Resumption",
    "answer",
    "answer_spans",
    "cancel_pending",
    "is_answer",
    "pause",
    "resumed",
]
