"""One tracing path for every workflow run, whatever the workflow's kind.

The conversation runtime opens a ``RunTrace`` around every run it starts
(``respond``, ``action``, ``sync_action``) of every workflow (the built-in
``demo``, YAML and Python agents, ``Workflow`` subclasses, graphs) and saves
it when the run ends, failed or cancelled runs included. Each trace has a
root ``run`` span; what happens inside shows as its children:

- an Agents SDK run: pass ``run_trace.run_config(...)`` as its ``RunConfig``,
  and the SDK's spans (task, agent, turns, model calls, tools, handoffs)
  land under the root, through the one processor chatkitd installs;
- anything else (a graph's nodes, a custom workflow's steps):
  ``with run_trace.span("name", {...}):`` records a ``custom`` span.

A workflow reaches its run's trace as ``context.run_trace``. When the session
turned tracing off the trace is disabled: ``span`` records nothing and
``run_config`` turns the SDK's tracing off, so no caller needs to branch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from agents import RunConfig
from agents.tracing import gen_trace_id

from chatkitd import clock
from chatkitd.settings import SettingsError
from chatkitd.tracing import store as trace_store
from chatkitd.tracing.processor import install
from chatkitd.tracing.records import SpanRecord, TraceRecorder

if TYPE_CHECKING:
    from chatkitd.store.db import Database

logger = logging.getLogger(__name__)


def _span_id() -> str:
    return f"span_{secrets.token_hex(12)}"  # the SDK's format, so OTLP export reads both alike


class RunTrace:
    """One run's trace (disabled when ``recorder`` is None)."""

    def __init__(self, recorder: TraceRecorder | None, group_id: str | None = None) -> None:
        self.recorder = recorder
        self._group_id = group_id
        self._open: list[str] = []  # ids of the custom spans being recorded, innermost last

    @classmethod
    def disabled(cls) -> RunTrace:
        return cls(None)

    @property
    def enabled(self) -> bool:
        return self.recorder is not None

    @property
    def trace_id(self) -> str | None:
        return self.recorder.trace_id if self.recorder else None

    def run_config(self, **options: Any) -> RunConfig:
        """A ``RunConfig`` whose SDK spans are recorded in this trace (or not at all)."""
        recorder = self.recorder
        options.setdefault("group_id", self._group_id)
        if recorder is not None:
            options.setdefault("workflow_name", recorder.name or recorder.workflow_id)
        return RunConfig(tracing_disabled=recorder is None, trace_id=self.trace_id, **options)

    @contextlib.contextmanager
    def span(self, name: str, data: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Record a ``custom`` span around the block; update the yielded dict to add data.

        An exception in the block is recorded as the span's error and re-raised.
        """
        details: dict[str, Any] = dict(data or {})
        if self.recorder is None:
            yield details
            return
        span_id = _span_id()
        parent = self._open[-1] if self._open else self.recorder.root_span_id
        started = clock.unix()
        self._open.append(span_id)
        error: dict[str, Any] | None = None
        try:
            yield details
        except BaseException as failure:
            error = {"message": f"{type(failure).__name__}: {failure}", "data": None}
            raise
        finally:
            self._open.remove(span_id)
            self.recorder.add(
                SpanRecord(
                    id=span_id,
                    parent_id=parent,
                    kind="custom",
                    name=name,
                    started_at=started,
                    ended_at=clock.unix(),
                    data=_jsonable({"type": "custom", "name": name, "data": details}),
                    error=error,
                )
            )

    def produced(self, item_id: str) -> None:
        """An item the run added to the thread (its trace lists them, and feedback joins on them)."""
        if self.recorder is not None:
            self.recorder.item_ids.append(item_id)


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(value, default=str))


class Caller(Protocol):
    """What a run's trace needs of the request context (``chatkitd.context.RequestContext``)."""

    project_id: str
    session: Any


class RunTracer:
    """Opens a ``RunTrace`` for each run and saves it when the run ends: database, then OTLP
    (the exporter is made at start, so a missing ``otlp`` extra is a setting error, not a failed chat)."""

    def __init__(self, db: Database, otlp_endpoint: str | None = None) -> None:
        self.db = db
        self.processor = install()
        self._saving: set[asyncio.Task[None]] = set()  # strong references to saves under way
        self._otlp: Any = None
        if otlp_endpoint is not None:
            from chatkitd.tracing.otlp import OtlpExporter

            try:
                self._otlp = OtlpExporter(otlp_endpoint)
            except ImportError:
                raise SettingsError(
                    "CHATKITD_OTLP_ENDPOINT is set, but the `otlp` extra is not installed: "
                    "in chatkitd's clone, run `.venv/bin/pip install -e '.[otlp]'`."
                ) from None

    def open(
        self,
        context: Caller,
        thread_id: str | None,
        workflow_id: str,
        workflow_version: str,
        operation: str,
        item_ids: list[str] | None = None,
    ) -> RunTrace:
        session = context.session
        if session is None or not session.tracing_enabled:
            return RunTrace(None, thread_id)
        recorder = TraceRecorder(
            trace_id=gen_trace_id(),
            project_id=context.project_id,
            thread_id=thread_id,
            session_id=session.id,
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            name=f"{workflow_id} v{workflow_version}",
            item_ids=list(item_ids or []),
            root_span_id=_span_id(),
            root_data={"workflow": workflow_id, "version": workflow_version, "operation": operation},
        )
        self.processor.register(recorder)
        return RunTrace(recorder, thread_id)

    def close_soon(self, run: RunTrace, error: BaseException | None = None) -> asyncio.Task[None] | None:
        """``close`` in a task of its own, so that the run's trace is saved while the stream goes on
        (a chat's last write, its thread's update, runs beside it rather than after it); None
        when the run is not traced."""
        if run.recorder is None:
            return None
        task = asyncio.create_task(self.close(run, error))
        self._saving.add(task)
        task.add_done_callback(self._saving.discard)
        return task

    async def wait_saved(self) -> None:
        """Wait for the saves under way (at shutdown)."""
        if self._saving:
            await asyncio.wait(list(self._saving))

    async def close(self, run: RunTrace, error: BaseException | None = None) -> None:
        """Save the run's trace (never failing the chat), whatever happened to the run."""
        recorder = run.recorder
        if recorder is None:
            return
        self.processor.release(recorder.trace_id)
        recorder.ended_at = clock.unix()
        failure = None
        if error is not None:
            recorder.error = f"{type(error).__name__}: {error}".rstrip(": ")
            failure = {"message": recorder.error, "data": None}
        recorder.add(
            SpanRecord(
                id=recorder.root_span_id or _span_id(),
                parent_id=None,
                kind="custom",
                name="run",
                started_at=recorder.started_at,
                ended_at=recorder.ended_at,
                data={"type": "custom", "name": "run", "data": recorder.root_data},
                error=failure,
            )
        )
        # A cancelled stream still records its trace; shielding keeps the write whole.
        try:
            await asyncio.shield(trace_store.save_trace(self.db, recorder))
        except Exception as error:  # noqa: BLE001 - losing a trace must never fail the chat
            if not self.db.availability.absorbs(error):
                logger.exception("could not save trace %s", recorder.trace_id)
        if self._otlp is not None:
            self._otlp.export_soon(recorder)
