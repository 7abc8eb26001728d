"""The approval card a person sees in the chat, in each of its states.

A plain ChatKit widget (a Card whose ``confirm`` and ``cancel`` actions are
the Approve and Reject buttons), so any client of the protocol renders it and
sends the answer back as ``threads.custom_action``. Once answered, or
cancelled, the card is replaced by one without buttons that says what
happened, who answered and when.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from chatkit.widgets import WidgetRoot
from pydantic import TypeAdapter

from chatkitd.approvals.model import ANSWER_ACTION, ApprovalRequest

_widgets: TypeAdapter[WidgetRoot] = TypeAdapter(WidgetRoot)
# Arguments are shown whole up to this size; a person cannot review more anyway.
MAX_ARGUMENTS_SHOWN = 4000


def arguments_text(arguments: Any) -> str:
    """Tool arguments as a person reads them: pretty JSON (a JSON string is parsed first)."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return arguments
    text = json.dumps(arguments, indent=2, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_ARGUMENTS_SHOWN:
        text = text[:MAX_ARGUMENTS_SHOWN] + "\n… (shortened)"
    return text


def _body(request: ApprovalRequest) -> list[dict[str, Any]]:
    children: list[dict[str, Any]] = [{"type": "Title", "value": request.title, "size": "sm"}]
    if request.question:
        children.append({"type": "Text", "value": request.question})
    if request.tool:
        where = f" on {request.server}" if request.server else ""
        children.append({"type": "Text", "value": f"Tool: {request.tool}{where}", "weight": "medium"})
    if request.arguments not in (None, "", {}):
        fence = "````" if "```" in arguments_text(request.arguments) else "```"
        children.append(
            {"type": "Markdown", "value": f"{fence}json\n{arguments_text(request.arguments)}\n{fence}"}
        )
    return children


def pending(request: ApprovalRequest, approval_id: str) -> WidgetRoot:
    def action(decision: str) -> dict[str, Any]:
        return {"type": ANSWER_ACTION, "payload": {"approval_id": approval_id, "decision": decision}}

    return _widgets.validate_python(
        {
            "type": "Card",
            "key": approval_id,
            "children": _body(request),
            "confirm": {"label": request.approve_label, "action": action("approve")},
            "cancel": {"label": request.reject_label, "action": action("reject")},
        }
    )


def when(unix: float) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def answered(
    request: ApprovalRequest, approval_id: str, approved: bool, user: str, at: float, reason: str | None
) -> WidgetRoot:
    verdict = "Approved" if approved else "Rejected"
    caption = f"{verdict} by {user}, {when(at)}" + (f": {reason}" if reason else "")
    return _closed(request, approval_id, verdict, "success" if approved else "danger", caption)


def cancelled(request: ApprovalRequest, approval_id: str, reason: str) -> WidgetRoot:
    return _closed(request, approval_id, "Not answered", "secondary", reason)


def _closed(request: ApprovalRequest, approval_id: str, badge: str, color: str, caption: str) -> WidgetRoot:
    return _widgets.validate_python(
        {
            "type": "Card",
            "key": approval_id,
            "children": [
                *_body(request),
                {
                    "type": "Row",
                    "gap": 2,
                    "align": "center",
                    "children": [
                        {"type": "Badge", "label": badge, "color": color},
                        {"type": "Caption", "value": caption},
                    ],
                },
            ],
        }
    )


def copy_text(request: ApprovalRequest) -> str:
    """What the card says, as text: for copying, and for the model's view of the thread."""
    parts = [request.title, request.question or ""]
    if request.tool:
        parts.append(f"Tool: {request.tool}" + (f" on {request.server}" if request.server else ""))
    return "\n".join(p for p in parts if p)
