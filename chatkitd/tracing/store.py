"""Reading and writing recorded traces, with feedback on the traced items joined in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, select, text

from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.store.paging import Window, page_on
from chatkitd.tracing.records import TraceRecorder

# Built once; each row is its parameters (``.values(...)`` would build a new statement per trace).
_INSERT_TRACE, _INSERT_SPANS = insert(tables.traces), insert(tables.spans)
_TRACE_COLUMNS = {
    "id": "varchar",
    "project_id": "varchar",
    "thread_id": "varchar",
    "session_id": "varchar",
    "workflow_id": "varchar",
    "workflow_version": "varchar",
    "name": "varchar",
    "item_ids": "text",
    "started_at": "float8",
    "ended_at": "float8",
    "error": "text",
}
_SPAN_COLUMNS = {
    "id": "varchar",
    "parent_id": "varchar",
    "kind": "varchar",
    "name": "varchar",
    "started_at": "float8",
    "ended_at": "float8",
    "data": "text",
    "error": "text",
}
# PostgreSQL: the trace and its spans (a JSON array of rows) in one statement, one round trip
# (the spans' foreign key is checked at the statement's end, when the trace is there).
_SAVE_TRACE_POSTGRES = text(
    f"""
    WITH trace AS (
        INSERT INTO traces ({", ".join(_TRACE_COLUMNS)})
        VALUES ({", ".join(f"CAST(:{name} AS {sql_type})" for name, sql_type in _TRACE_COLUMNS.items())})
        RETURNING id
    )
    INSERT INTO spans (trace_id, {", ".join(_SPAN_COLUMNS)})
    SELECT trace.id, {", ".join(f"s.{name}" for name in _SPAN_COLUMNS)}
    FROM trace, ROWS FROM (
        json_to_recordset(CAST(:spans AS json))
        AS ({", ".join(f"{name} {sql_type}" for name, sql_type in _SPAN_COLUMNS.items())})
    ) WITH ORDINALITY AS s({", ".join(_SPAN_COLUMNS)}, n)
    ORDER BY s.n  -- the spans' seq follows their order
    """
)


async def save_trace(db: Database, recorder: TraceRecorder) -> None:
    """Write a finished run's trace and spans in one transaction (on PostgreSQL, one statement)."""
    spans = sorted(recorder.spans, key=lambda s: s.started_at or 0.0)
    trace = {
        "id": recorder.trace_id,
        "project_id": recorder.project_id,
        "thread_id": recorder.thread_id,
        "session_id": recorder.session_id,
        "workflow_id": recorder.workflow_id,
        "workflow_version": recorder.workflow_version,
        "name": recorder.name,
        "item_ids": json.dumps(recorder.item_ids),
        "started_at": recorder.started_at,
        "ended_at": recorder.ended_at,
        "error": recorder.error,
    }
    rows = [
        {
            "id": s.id,
            "parent_id": s.parent_id,
            "kind": s.kind,
            "name": (s.name or "")[:200] or None,
            "started_at": s.started_at,
            "ended_at": s.ended_at,
            "data": json.dumps(s.data),
            "error": json.dumps(s.error) if s.error else None,
        }
        for s in spans
    ]
    if not db.is_sqlite:
        async with db.write_direct(single=True) as direct:
            await direct.execute(_SAVE_TRACE_POSTGRES, {**trace, "spans": json.dumps(rows)})
        return
    async with db.write_direct() as direct:
        await direct.execute(_INSERT_TRACE, trace)
        await direct.execute_many(_INSERT_SPANS, [{**row, "trace_id": recorder.trace_id} for row in rows])


def _trace_resource(
    row: Any, spans: list[dict[str, Any]] | None = None, feedback: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    resource = {
        "id": row.id,
        "object": "chatkit.trace",
        "thread_id": row.thread_id,
        "session_id": row.session_id,
        "workflow": {"id": row.workflow_id, "version": row.workflow_version},
        "name": row.name,
        "item_ids": json.loads(row.item_ids),
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "error": row.error,
    }
    if spans is not None:
        resource["spans"] = spans
    if feedback is not None:
        resource["feedback"] = feedback
    return resource


def _span_resource(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "chatkit.trace.span",
        "parent_id": row.parent_id,
        "kind": row.kind,
        "name": row.name,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "data": json.loads(row.data),
        "error": json.loads(row.error) if row.error else None,
    }


async def list_traces(
    db: Database,
    project_id: str | None,
    thread_id: str | None = None,
    limit: int = 50,
    after: str | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """The newest traces first, from past ``after`` (a trace id), and whether there are more;
    ``project_id=None`` spans every project. One keyset page (``paging.page_on``)."""
    t = tables.traces
    scope: list[Any] = []
    if project_id is not None:
        scope.append(t.c.project_id == project_id)
    if thread_id is not None:
        scope.append(t.c.thread_id == thread_id)
    async with db.read() as conn:
        rows, has_more = await page_on(conn, select(t).where(*scope), t, Window(limit, "desc", after), scope)
    return [_trace_resource(row) for row in rows], has_more


async def get_trace(db: Database, project_id: str | None, trace_id: str) -> dict[str, Any] | None:
    """One trace with its spans and the feedback given on its items; None outside the project.

    ``project_id=None`` (the operator's CLI) finds a trace in any project.
    """
    t, s, f = tables.traces, tables.spans, tables.feedback
    query = select(t).where(t.c.id == trace_id)
    if project_id is not None:
        query = query.where(t.c.project_id == project_id)
    async with db.read() as conn:
        row = (await conn.execute(query)).first()
        if row is None:
            return None
        span_rows = (await conn.execute(select(s).where(s.c.trace_id == trace_id).order_by(s.c.seq))).all()
        item_ids = json.loads(row.item_ids)
        feedback_rows: Sequence[Row] = []
        if item_ids and row.thread_id:
            feedback_rows = (
                await conn.execute(
                    select(f)
                    .where(f.c.thread_id == row.thread_id, f.c.item_id.in_(item_ids))
                    .order_by(f.c.seq)
                )
            ).all()
    feedback = [
        {"item_id": fb.item_id, "kind": fb.kind, "user": fb.user, "created_at": fb.created_at}
        for fb in feedback_rows
    ]
    return _trace_resource(row, [_span_resource(r) for r in span_rows], feedback)
