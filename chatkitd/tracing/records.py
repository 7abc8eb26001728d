"""What a recorded trace is: one run's spans, kept in memory until the run ends.

No Agents SDK import here: the CLI and the trace store read and write these
without loading the SDK.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

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
    error: dict[str, Any] | None

    @classmethod
    def from_span(cls, span: Any) -> SpanRecord:
        """From an Agents SDK ``Span`` (read through its public ``export()``)."""
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
            error=dict(span.error) if span.error else None,
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
    # The run's own span: SDK spans that have no parent are hung under it.
    root_span_id: str | None = None
    root_data: dict[str, Any] = field(default_factory=dict)

    def add(self, span: SpanRecord) -> None:
        if span.parent_id is None and span.id != self.root_span_id:
            span.parent_id = self.root_span_id
        self.spans.append(span)
