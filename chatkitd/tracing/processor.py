"""The one Agents SDK tracing processor chatkitd installs, replacing OpenAI's exporter.

The Agents SDK exports every trace to OpenAI by default. ``install()``
swaps its processor list for ours (``set_trace_processors`` replaces, it
does not add), so spans go only to the run's ``TraceRecorder`` and from
there to the database. A run asks for recording by registering a recorder
under the trace id it passes to ``RunConfig`` (``chatkitd.tracing.runs``
does, for every run); traces nobody registered (tracing disabled, or a run
outside chatkitd) are dropped.
"""

from __future__ import annotations

import threading
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor, set_trace_processors

from chatkitd.tracing.records import SpanRecord, TraceRecorder


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
            return self._recorders.pop(trace_id, None)

    # A run's trace starts and ends with the run (chatkitd.tracing.runs), not with the SDK's
    # trace: one run may hold several SDK runs, or none.
    def on_trace_start(self, trace: Trace) -> None:
        pass

    def on_trace_end(self, trace: Trace) -> None:
        pass

    def on_span_start(self, span: Span[Any]) -> None:
        pass

    def on_span_end(self, span: Span[Any]) -> None:
        recorder = self._recorders.get(span.trace_id)
        if recorder is not None:
            try:
                recorder.add(SpanRecord.from_span(span))
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
