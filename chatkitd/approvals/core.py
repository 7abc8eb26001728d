"""Pausing a run until a person answers, and taking the answer: the one mechanism for approvals.

A workflow that must wait calls ``pause``: the pause and its questions are
stored (with the state the workflow gave, to resume from) and each question
becomes an approval card in the thread. The card's buttons come back as
``threads.custom_action``; the conversation server hands them to ``answer``,
which claims the approval (one answer wins, across processes), records who
answered and when, and updates the card. When the pause's last approval is
answered, the claim carries a ``Resumption`` and the conversation server
calls the paused workflow version's ``resume`` hook, on whichever process
took the answer. A new message in the thread first cancels a pending pause
(``cancel_pending``).

Tool approvals in agent runs and the graph's ``user_approval`` node both go
through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agents.tracing import gen_span_id
from chatkit.store import NotFoundError
from chatkit.types import ThreadItemDoneEvent, ThreadItemReplacedEvent, ThreadMetadata, WidgetItem

from chatkitd import clock
from chatkitd.approvals import records, widget
from chatkitd.approvals.model import ANSWER_ACTION, ApprovalRequest, Resumption
from chatkitd.context import RequestContext
from chatkitd.errors import Conflict, InvalidRequest, NotFound
from chatkitd.tracing.records import SpanRecord, TraceRecorder

if TYPE_CHECKING:
    from chatkitd.store.threads import ThreadStore

# In the thread's (server-side) metadata while a pause waits: a new message cancels it.
PENDING_KEY = "chatkitd.pending_approval"
MOVED_ON = "The conversation moved on before anyone answered."
MAX_REASON = 1000
_PAYLOAD = "params.action.payload"


async def pause(
    thread: ThreadMetadata,
    context: RequestContext,
    store: ThreadStore,
    *,
    workflow_id: str,
    workflow_version: str,
    kind: str,
    state: str,
    requests: list[ApprovalRequest],
    trace: TraceRecorder | None = None,
) -> list[ThreadItemDoneEvent]:
    """Store a pause and return its approval cards; the caller yields them and ends its stream."""
    if not requests:
        raise ValueError("a pause needs at least one approval request")
    planned = [
        (records.new_approval_id(), store.generate_item_id("message", thread, context), r) for r in requests
    ]
    pause_id = await records.create(
        store.db,
        records.NewPause(
            project_id=context.project_id,
            thread_id=thread.id,
            user=context.user or "",
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            kind=kind,
            state=state,
            trace_id=trace.trace_id if trace is not None else None,
        ),
        planned,
    )
    thread.metadata[PENDING_KEY] = pause_id
    events = [
        ThreadItemDoneEvent(
            item=WidgetItem(
                id=item_id,
                thread_id=thread.id,
                created_at=clock.now(),
                widget=widget.pending(request, approval_id),
                copy_text=widget.copy_text(request),
            )
        )
        for approval_id, item_id, request in planned
    ]
    if trace is not None:
        now = clock.unix()
        trace.item_ids.extend(event.item.id for event in events)
        for approval_id, _, request in planned:
            trace.add(_span("approval requested", now, {"approval_id": approval_id, **_described(request)}))
    return events


@dataclass(frozen=True)
class Answered:
    """A won answer: the card as it now reads, and the resumption when it was the pause's last."""

    card: WidgetItem | None
    resumption: Resumption | None


def is_answer(action_type: str) -> bool:
    return action_type == ANSWER_ACTION


async def answer(store: ThreadStore, thread_id: str, payload: Any, context: RequestContext) -> Answered:
    """Claim an approval for the caller, or refuse with a 4xx saying why."""
    approval_id, approved, reason = _parse(payload)
    user = context.user or ""
    claim = await records.claim(store.db, approval_id, thread_id, approved, user, reason)
    if claim is None:
        raise await _refusal(store, approval_id, thread_id)
    row = claim.approval
    card = None
    try:
        item = await store.load_item(thread_id, row.item_id, context)
    except NotFoundError:
        pass  # the card was removed (a retried message); the answer stands
    else:
        if isinstance(item, WidgetItem):
            card = item.model_copy(
                update={
                    "widget": widget.answered(
                        row.request, row.id, approved, user, row.answered_at or clock.unix(), reason
                    )
                }
            )
            await store.save_item(thread_id, card, context)
    return Answered(card, claim.resumption)


def resumed(thread: ThreadMetadata, resumption: Resumption) -> None:
    """Forget the thread's pending pause once its run resumes."""
    if thread.metadata.get(PENDING_KEY) == resumption.pause_id:
        thread.metadata.pop(PENDING_KEY)


async def cancel_pending(
    thread: ThreadMetadata, context: RequestContext, store: ThreadStore, reason: str = MOVED_ON
) -> list[ThreadItemReplacedEvent]:
    """Cancel the thread's pending pause, if any; returns its cards, updated to say so."""
    pause_id = thread.metadata.pop(PENDING_KEY, None)
    if not isinstance(pause_id, str):
        return []
    events = []
    for row in await records.cancel_pause(store.db, pause_id, thread.id, reason):
        try:
            item = await store.load_item(thread.id, row.item_id, context)
        except NotFoundError:
            continue
        if isinstance(item, WidgetItem):
            card = item.model_copy(update={"widget": widget.cancelled(row.request, row.id, reason)})
            events.append(ThreadItemReplacedEvent(item=card))
    return events


def answer_spans(resumption: Resumption) -> list[SpanRecord]:
    """The answers of a pause as trace spans, for the trace of the run they resume."""
    return [
        _span(
            "approval answered",
            answer.answered_at,
            {
                "approval_id": answer.approval_id,
                "decision": "approved" if answer.approved else "rejected",
                "answered_by": answer.answered_by,
                "answered_at": answer.answered_at,
                "reason": answer.reason,
                **_described(request),
            },
        )
        for answer, request in zip(resumption.answers, resumption.requests, strict=True)
    ]


def _described(request: ApprovalRequest) -> dict[str, Any]:
    return request.model_dump(include={"key", "title", "question", "tool", "server", "arguments"})


def _span(name: str, at: float, data: dict[str, Any]) -> SpanRecord:
    return SpanRecord(
        id=gen_span_id(),
        parent_id=None,
        kind="custom",
        name=name,
        started_at=at,
        ended_at=at,
        data={"type": "custom", "name": name, "data": data},
        error=None,
    )


def _parse(payload: Any) -> tuple[str, bool, str | None]:
    if not isinstance(payload, dict):
        raise InvalidRequest(
            "An approval answer's payload is an object with `approval_id` and `decision`.", param=_PAYLOAD
        )
    approval_id = payload.get("approval_id")
    if not isinstance(approval_id, str) or not approval_id:
        raise InvalidRequest("Missing required parameter: 'approval_id'.", param=f"{_PAYLOAD}.approval_id")
    decision = payload.get("decision")
    if decision not in ("approve", "reject"):
        raise InvalidRequest(
            "Invalid value for 'decision': must be 'approve' or 'reject'.", param=f"{_PAYLOAD}.decision"
        )
    reason = payload.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise InvalidRequest(
            f"Invalid value for 'reason': a string of at most {MAX_REASON} characters.",
            param=f"{_PAYLOAD}.reason",
        )
    return approval_id, decision == "approve", reason or None


async def _refusal(store: ThreadStore, approval_id: str, thread_id: str) -> Exception:
    row = await records.find(store.db, approval_id, thread_id)
    if row is None:
        return NotFound(
            f"No approval '{approval_id}' in thread {thread_id}.",
            param=f"{_PAYLOAD}.approval_id",
            code="not_found",
        )
    if row.status == "cancelled":
        return Conflict(
            f"Approval {approval_id} no longer waits for an answer: {row.reason or MOVED_ON}",
            param=f"{_PAYLOAD}.approval_id",
            code="approval_cancelled",
        )
    when = widget.when(row.answered_at) if row.answered_at else "earlier"
    return Conflict(
        f"Approval {approval_id} was already answered: {row.status} by {row.answered_by}, {when}.",
        param=f"{_PAYLOAD}.approval_id",
        code="approval_already_answered",
    )
