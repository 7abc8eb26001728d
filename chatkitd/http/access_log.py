"""chatkitd's access log: one line per request, written in batches, never with a usable credential.

uvicorn's access log formats and writes each line through ``logging`` as the
request ends; at ``info`` (the default level) that cost about a third of REST
throughput. Here a finished request adds one preformatted line to a buffer,
and the buffer is written to stderr in one call when it holds ``BATCH_LINES``
or ``FLUSH_SECONDS`` after its first line, whichever comes first (and when the
server stops). Lines are text, or JSON objects with ``CHATKITD_LOG_FORMAT=json``.

Each request gets an id: the caller's ``X-Request-Id`` when it is a plain token,
otherwise a new one; the response carries it back, and every log line the
request causes carries it too (``chatkitd.log_context``), with the project,
session, thread and workflow once known.

Signed links (upload, preview, cited source) carry their credential in the
query: ``signature`` and any other credential-like parameter is written as
``REDACTED`` (``chatkitd.redaction``, the rule every log line follows), so a
log reader cannot use a link it reads. Headers are never logged.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sys
import time
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkitd import log_context
from chatkitd.redaction import redact_query

BATCH_LINES = 256
FLUSH_SECONDS = 0.25
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_FIELDS = ("project", "session", "thread", "workflow")


class AccessLog:
    """The buffer of finished requests' lines and where they go."""

    def __init__(self, stream: TextIO | None = None, *, json_lines: bool = False) -> None:
        self.stream = stream
        self.json_lines = json_lines
        self._lines: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= BATCH_LINES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        stream = self.stream or sys.stderr
        try:
            stream.write("".join(lines))
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stderr must never fail a request

    def line(self, scope: Scope, status: int, started: float, fields: dict[str, str], sent_bytes: int) -> str:
        query = scope.get("query_string", b"")
        path = scope["path"] + ("?" + redact_query(query) if query else "")
        client = scope.get("client")
        address = client[0] if client else "-"
        millis = (time.perf_counter() - started) * 1000
        if self.json_lines:
            record = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
                "level": "INFO",
                "logger": "chatkitd.access",
                "message": f"{scope['method']} {path} {status}",
                "method": scope["method"],
                "path": path,
                "status": status,
                "duration_ms": round(millis, 2),
                "bytes": sent_bytes,
                "client": address,
                **fields,
            }
            return json.dumps(record, separators=(",", ":")) + "\n"
        ids = " ".join(f"{name}={fields[name]}" for name in _FIELDS if name in fields)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return (
            f'{stamp} {address} "{scope["method"]} {path}" {status} {millis:.1f}ms '
            f"{fields['request_id']}{' ' + ids if ids else ''}\n"
        )


class AccessLogMiddleware:
    """Gives each request an id (and ``X-Request-Id``), and adds its line to ``log`` when it ends;
    ``log=None``: ids only (the level is above ``info``)."""

    def __init__(self, app: ASGIApp, *, log: AccessLog | None) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and _REQUEST_ID.fullmatch(value):
                request_id = value.decode()
                break
        fields = log_context.begin(request_id or "req_" + secrets.token_hex(8))
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", fields["request_id"].encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.log is not None:
                self.log.add(self.log.line(scope, status, started, fields, sent))
