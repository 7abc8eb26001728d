"""The approvals core's rows: pauses and their approvals, claimed atomically.

One answer wins, across processes: an approval is claimed by an ``UPDATE``
that matches only while it is pending, and the pause's count of unanswered
approvals is decremented in the same transaction, so exactly one answer (the
last) sees it reach zero and resumes the run. Both writers (a claim, and a
cancellation when the thread moves on) touch approvals before their pause,
so on PostgreSQL they queue on the same rows in the same order and never
deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from chatkitd import clock, ids
from chatkitd.approvals.model import Answer, ApprovalRequest, Resumption
from chatkitd.store import tables
from chatkitd.store.db import Database

P, A = tables.approval_pauses, tables.approvals
APPROVAL_PREFIX = "apr"
PAUSE_PREFIX = "apause"


@dataclass(frozen=True)
class NewPause:
    project_id: str
    thread_id: str
    user: str
    workflow_id: str
    workflow_version: str
    kind: str
    state: str
    trace_id: str | None


@dataclass(frozen=True)
class ApprovalRow:
    id: str
    pause_id: str
    thread_id: str
    item_id: str
    key: str
    request: ApprovalRequest
    status: str
    answered_by: str | None
    answered_at: float | None
    reason: str | None

    @classmethod
    def from_row(cls, row: Any) -> ApprovalRow:
        return cls(
            id=row.id,
            pause_id=row.pause_id,
            thread_id=row.thread_id,
            item_id=row.item_id,
            key=row.key,
            request=ApprovalRequest.model_validate_json(row.request),
            status=row.status,
            answered_by=row.answered_by,
            answered_at=row.answered_at,
            reason=row.reason,
        )


@dataclass(frozen=True)
class Claim:
    """A won answer: the approval as answered, and the resumption when it was the pause's last."""

    approval: ApprovalRow
    resumption: Resumption | None


def new_approval_id() -> str:
    return ids.new_id(APPROVAL_PREFIX)


async def create(db: Database, pause: NewPause, approvals: list[tuple[str, str, ApprovalRequest]]) -> str:
    """Store a pause and its approvals (``(approval_id, item_id, request)``); returns the pause id."""
    pause_id = ids.new_id(PAUSE_PREFIX)
    now = clock.unix()
    async with db.write() as conn:
        await conn.execute(
            insert(P).values(
                id=pause_id,
                remaining=len(approvals),
                status="pending",
                created_at=now,
                **pause.__dict__,
            )
        )
        await conn.execute(
            insert(A),
            [
                dict(
                    id=approval_id,
                    pause_id=pause_id,
                    thread_id=pause.thread_id,
                    item_id=item_id,
                    key=request.key,
                    request=request.model_dump_json(),
                    status="pending",
                    created_at=now,
                )
                for approval_id, item_id, request in approvals
            ],
        )
    return pause_id


async def find(db: Database, approval_id: str, thread_id: str) -> ApprovalRow | None:
    async with db.read() as conn:
        row = (await conn.execute(select(A).where(A.c.id == approval_id, A.c.thread_id == thread_id))).first()
    return None if row is None else ApprovalRow.from_row(row)


async def claim(
    db: Database, approval_id: str, thread_id: str, approved: bool, user: str, reason: str | None
) -> Claim | None:
    """Answer a pending approval; None when it was not pending (answered, cancelled, unknown)."""
    async with db.write() as conn:
        won = await conn.execute(
            update(A)
            .where(A.c.id == approval_id, A.c.thread_id == thread_id, A.c.status == "pending")
            .values(
                status="approved" if approved else "rejected",
                answered_by=user,
                answered_at=clock.unix(),
                reason=reason,
            )
            .returning(*A.c)
        )
        row = won.first()
        if row is None:
            return None
        approval = ApprovalRow.from_row(row)
        left = (
            await conn.execute(
                update(P)
                .where(P.c.id == approval.pause_id)
                .values(remaining=P.c.remaining - 1)
                .returning(P.c.remaining, P.c.status)
            )
        ).one()
        if left.remaining > 0 or left.status != "pending":
            return Claim(approval, None)
        pause = (
            await conn.execute(
                update(P).where(P.c.id == approval.pause_id).values(status="resumed").returning(*P.c)
            )
        ).one()
        rows = (await conn.execute(select(A).where(A.c.pause_id == pause.id).order_by(A.c.seq))).all()
    answered = [ApprovalRow.from_row(r) for r in rows]
    return Claim(approval, _resumption(pause, answered))


async def cancel_pause(db: Database, pause_id: str, thread_id: str, reason: str) -> list[ApprovalRow]:
    """Cancel what is still pending of a pause; returns the approvals it cancelled."""
    async with db.write() as conn:
        cancelled = (
            await conn.execute(
                update(A)
                .where(A.c.pause_id == pause_id, A.c.thread_id == thread_id, A.c.status == "pending")
                .values(status="cancelled", reason=reason, answered_at=clock.unix())
                .returning(*A.c)
            )
        ).all()
        await conn.execute(
            update(P).where(P.c.id == pause_id, P.c.status == "pending").values(status="cancelled")
        )
    return [ApprovalRow.from_row(row) for row in cancelled]


def _resumption(pause: Any, approvals: list[ApprovalRow]) -> Resumption:
    return Resumption(
        pause_id=pause.id,
        kind=pause.kind,
        state=pause.state,
        workflow_id=pause.workflow_id,
        workflow_version=pause.workflow_version,
        trace_id=pause.trace_id,
        requests=[a.request for a in approvals],
        answers=[
            Answer(
                key=a.key,
                approval_id=a.id,
                approved=a.status == "approved",
                answered_by=a.answered_by or "",
                answered_at=a.answered_at or 0.0,
                reason=a.reason,
            )
            for a in approvals
        ],
    )
