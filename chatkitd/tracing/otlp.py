"""Optional export of recorded traces over OTLP/HTTP, only to the endpoint the operator set.

Needs the ``otlp`` extra (``opentelemetry-sdk`` and its OTLP/HTTP exporter),
imported only when ``CHATKITD_OTLP_ENDPOINT`` is set. Each finished run is
sent as one batch, in the background: a slow or absent collector never
delays or fails a chat.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from chatkitd.tracing.records import SpanRecord, TraceRecorder

logger = logging.getLogger(__name__)


def _ns(seconds: float | None, fallback: float) -> int:
    return int((seconds if seconds is not None else fallback) * 1e9)


def _span_id(raw: str) -> int:
    # SDK ids are "span_<24 hex>"; OTLP span ids are 64-bit.
    return int(raw.rpartition("_")[2][-16:], 16) or 1


def _attributes(record: SpanRecord, recorder: TraceRecorder) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "chatkitd.span.kind": record.kind,
        "chatkitd.workflow.id": recorder.workflow_id,
        "chatkitd.workflow.version": recorder.workflow_version,
        "chatkitd.thread.id": recorder.thread_id or "",
    }
    usage = record.data.get("usage")
    if isinstance(usage, dict):
        for key in ("input_tokens", "output_tokens"):
            if isinstance(usage.get(key), int):
                attributes[f"gen_ai.usage.{key}"] = usage[key]
    if record.kind == "generation" and record.data.get("model"):
        attributes["gen_ai.request.model"] = str(record.data["model"])
    attributes["chatkitd.span.data"] = json.dumps(record.data)[:8000]
    return attributes


def to_otel_spans(recorder: TraceRecorder) -> list[Any]:
    """The run's spans as OpenTelemetry ``ReadableSpan``s, parents and timings kept."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    trace_id = int(recorder.trace_id.rpartition("_")[2], 16)
    resource = Resource.create({"service.name": "chatkitd"})

    def context(span_id: str) -> SpanContext:
        return SpanContext(trace_id, _span_id(span_id), is_remote=False, trace_flags=TraceFlags(1))

    spans = []
    for record in recorder.spans:
        status = (
            Status(StatusCode.ERROR, str(record.error.get("message", "")))
            if record.error
            else Status(StatusCode.UNSET)
        )
        spans.append(
            ReadableSpan(
                name=f"{record.kind} {record.name}" if record.name else record.kind,
                context=context(record.id),
                parent=context(record.parent_id) if record.parent_id else None,
                resource=resource,
                attributes=_attributes(record, recorder),
                kind=SpanKind.INTERNAL,
                status=status,
                start_time=_ns(record.started_at, recorder.started_at),
                end_time=_ns(record.ended_at, recorder.ended_at or recorder.started_at),
            )
        )
    return spans


class OtlpExporter:
    """Sends finished traces to one OTLP/HTTP endpoint, off the event loop."""

    def __init__(self, endpoint: str) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        self._exporter = OTLPSpanExporter(endpoint=endpoint, timeout=10)
        self._pending: set[asyncio.Task[None]] = set()

    def export_soon(self, recorder: TraceRecorder) -> None:
        task = asyncio.get_running_loop().create_task(self._export(recorder))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _export(self, recorder: TraceRecorder) -> None:
        try:
            await asyncio.to_thread(self._exporter.export, to_otel_spans(recorder))
        except Exception:  # noqa: BLE001 - a collector problem must never reach a chat
            logger.exception("OTLP export of trace %s failed", recorder.trace_id)
