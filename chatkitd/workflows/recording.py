"""Recording a workflow run's trace: one recorder per run, saved when the run ends.

Every workflow kind (agent, graph, exported code) records the same way: the
run registers a ``TraceRecorder`` with chatkitd's trace processor under its
trace id, the SDK's spans land in it, and ``save`` writes it to the database
(and OTLP when configured), never failing the chat.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from agents.tracing import gen_trace_id
from chatkit.types import ThreadMetadata

from chatkitd import clock
from chatkitd.context import RequestContext
from chatkitd.store.db import Database
from chatkitd.tracing import store as trace_store
from chatkitd.tracing.processor import DatabaseTraceProcessor, TraceRecorder


class RunEnvironment(Protocol):
    """What recording needs of a run's environment (``chatkitd.workflows.agent.RunEnvironment``)."""

    db: Database
    processor: DatabaseTraceProcessor
    otlp: Any


logger = logging.getLogger(__name__)


def start(
    env: RunEnvironment, workflow_id: str, version: str, thread: ThreadMetadata, context: RequestContext
) -> TraceRecorder | None:
    """A registered recorder for this run, or None when the session turned tracing off."""
    session = context.session
    if session is None or not session.tracing_enabled:
        return None
    recorder = TraceRecorder(
        trace_id=gen_trace_id(),
        project_id=context.project_id,
        thread_id=thread.id,
        session_id=session.id,
        workflow_id=workflow_id,
        workflow_version=version,
    )
    env.processor.register(recorder)
    return recorder


async def save(env: RunEnvironment, recorder: TraceRecorder) -> None:
    env.processor.release(recorder.trace_id)
    if recorder.ended_at is None:  # the run was cancelled or failed before its trace closed
        recorder.ended_at = clock.unix()
    # A cancelled stream still records its trace; shielding keeps the write whole.
    try:
        await asyncio.shield(trace_store.save_trace(env.db, recorder))
    except Exception:  # noqa: BLE001 - losing a trace must never fail the chat
        logger.exception("could not save trace %s", recorder.trace_id)
    if env.otlp is not None:
        env.otlp.export_soon(recorder)
