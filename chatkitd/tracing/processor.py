"""The one Agents SDK tracing processor chatkitd installs, replacing OpenAI's exporter.

The Agents SDK exports every trace to OpenAI by default. ``install()``
swaps its processor list for ours (``set_trace_processors`` replaces, it
does not add), so spans go only to the run's ``TraceRecorder`` and from
there to the database. A run asks for recording by registering a recorder
under the trace id it passes to ``RunConfig``; traces nobody registered
(tracing disabled, or a run outside chatkitd) are dropped.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from agents.tracing import Span, SpanError, Trace, TracingProcessor, set_trace_processors

from chatkitd import clock


def _unix(iso: str | None) -> float | None:
    if not iso:
        return None
    value = dt.datetime.fromisoformat(iso)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def _span_name(data: dict[str, Any]) -> str | None:
    kind = data.get("type")
    if kind == "generation":
        return data.get("model")
    if kind == "handoff":
        return f"{data.get('from_agent')} -> {data.get('to_agent')}"
    if kind == "response":
        return data.get("response_id")
    return data.get("name")


@dataclass
class SpanRecord:
    id: str
    parent_id: str | None
    kind: str
    name: str | None
    started_at: float | None
    ended_at: float | None
    data: dict[str, Any]
    error: SpanError | None

    @classmethod
    def from_span(cls, span: Span[Any]) -> SpanRecord:
        exported = span.export() or {}
        data = exported.get("span_data") or {}
        return cls(
            id=span.span_id,
            parent_id=span.parent_id,
            kind=str(data.get("type", "custom")),
            name=_span_name(data),
            started_at=_unix(span.started_at),
            ended_at=_unix(span.ended_at),
            # Round-trip through JSON so the row never holds objects that cannot be stored.
            data=json.loads(json.dumps(data, default=str)),
            error=span.error,
        )


@dataclass
class TraceRecorder:
    """Collects one run's trace in memory; ``chatkitd.tracing.store`` writes it when the run ends."""

    trace_id: str
    project_id: str
    thread_id: str | None
    session_id: str | None
    workflow_id: str
    workflow_version: str
    name: str | None = None
    started_at: float = field(default_factory=clock.unix)
    ended_at: float | None = None
    error: str | None = None
    spans: list[SpanRecord] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    # Other traces recorded into this one: those that code run by the workflow opened itself
    # (an Agent Builder export's ``with trace(...)``), while ``ADOPT`` named this recorder.
    aliases: list[str] = field(default_factory=list)


# The recorder that traces started in this context (and not registered themselves) join.
ADOPT: contextvars.ContextVar[TraceRecorder | None] = contextvars.ContextVar("chatkitd_adopt", default=None)


class DatabaseTraceProcessor(TracingProcessor):
    """Routes finished spans to the recorder registered for their trace."""

    def __init__(self) -> None:
        self._recorders: dict[str, TraceRecorder] = {}
        self._lock = threading.Lock()

    def register(self, recorder: TraceRecorder) -> None:
        with self._lock:
            self._recorders[recorder.trace_id] = recorder

    def release(self, trace_id: str) -> TraceRecorder | None:
        with self._lock:
            recorder = self._recorders.pop(trace_id, None)
            for alias in recorder.aliases if recorder is not None else ():
                self._recorders.pop(alias, None)
            return recorder

    def on_trace_start(self, trace: Trace) -> None:
        recorder = self._recorders.get(trace.trace_id)
        if recorder is None:
            adopting = ADOPT.get()
            if adopting is not None:
                with self._lock:
                    self._recorders[trace.trace_id] = adopting
                adopting.aliases.append(trace.trace_id)
            return
        recorder.name = trace.name

    def on_trace_end(self, trace: Trace) -> None:
        recorder = self._recorders.get(trace.trace_id)
        if recorder is not None and recorder.trace_id == trace.trace_id:
            recorder.ended_at = clock.unix()

    def on_span_start(self, span: Span[Any]) -> None:
        pass

    def on_span_end(self, span: Span[Any]) -> None:
        recorder = self._recorders.get(span.trace_id)
        if recorder is not None:
            try:
                recorder.spans.append(SpanRecord.from_span(span))
            except Exception:  # noqa: BLE001 - a span we cannot read must never fail the run
                pass

    def shutdown(self) -> None:
        with self._lock:
            self._recorders.clear()

    def force_flush(self) -> None:
        pass


_PROCESSOR: DatabaseTraceProcessor | None = None
_INSTALL_LOCK = threading.Lock()


def install() -> DatabaseTraceProcessor:
    """Make chatkitd's processor the SDK's only one (idempotent, process-wide)."""
    global _PROCESSOR
    with _INSTALL_LOCK:
        if _PROCESSOR is None:
            _PROCESSOR = DatabaseTraceProcessor()
            set_trace_processors([_PROCESSOR])
        return _PROCESSOR
