"""What ``chatkitd serve`` logs, and how: one configuration, on stderr.

- Every line is text (``time level logger: message [request_id=... project=...]``)
  or, with ``CHATKITD_LOG_FORMAT=json``, one JSON object with the same fields:
  the request's id and the project, session, thread and workflow it concerns,
  once known (``chatkitd.log_context``). Ids only: a key, a client secret or a
  signature is never a field.
- A client's error is not the server's: chatkit logs every exception of a
  streamed request at ERROR with its traceback, a missing thread or item
  (a 404 here) or a wrong item (a 422) included. Those become one INFO line.
- uvicorn warns once per refused request beyond the connection cap; under
  an overload that would be a line per request, so it says so at most once in
  ``QUIET_SECONDS``.
- The access log is chatkitd's own, batched (``chatkitd.http.access_log``),
  not uvicorn's.
- No line carries a usable credential, whichever library wrote it and at
  whatever level (``chatkitd.redaction``): at ``trace`` uvicorn prints every
  request's query, signed links' signatures included.
- Times are UTC, marked ``Z``, as in the access log.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from chatkit.store import NotFoundError

from chatkitd import log_context
from chatkitd.errors import APIError
from chatkitd.redaction import redact
from chatkitd.store import availability

QUIET_SECONDS = 10.0
# What chatkit logs when an exception leaves a streamed request (before or while it streams).
STREAM_FAILED = "Error while generating streamed response"
_CONTEXT = ("request_id", "project", "session", "thread", "workflow")


class ContextFormatter(logging.Formatter):
    """Text lines, with the request's ids when there is a request."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")
        self.converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        fields = log_context.current()
        if not fields:
            return line
        ids = " ".join(f"{name}={fields[name]}" for name in _CONTEXT if name in fields)
        head, newline, rest = line.partition("\n")  # after the message, before any traceback
        return f"{head} [{ids}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            **(log_context.current() or {}),
        }
        if record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, default=str, separators=(",", ":"))


def is_client_error(error: BaseException | None) -> bool:
    """Whether chatkitd answers ``error`` with a 4xx (as ``chatkitd.http.errors`` and
    ``chatkitd.runtime.server`` map what chatkit raises)."""
    if isinstance(error, APIError):
        return error.status < 500
    # chatkit raises ValueError for a wrong item (a 422 here); pydantic's ValidationError is one too.
    return isinstance(error, NotFoundError | ValueError)


class ClientErrorsAsInfo(logging.Filter):
    """chatkit's ERROR-with-traceback for an error that leaves a streamed request before it
    starts: a client's error becomes one INFO line; the database being away, there or once the
    stream is under way, is dropped (its outage is logged once, ``chatkitd.store.availability``);
    anything else stays as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        error = record.exc_info[1]
        if availability.kind_of(error) is not None:
            return False  # before the stream or inside it (the user got a retryable error event)
        if record.msg != STREAM_FAILED:
            return True
        if is_client_error(error):
            record.msg = "client error: %s: %s"
            record.args = (type(error).__name__, str(error).splitlines()[0] if str(error) else "")
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None
            return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return True


class OncePer(logging.Filter):
    """Lets a message through at most once in ``seconds``."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__()
        self.message = message
        self.seconds = seconds
        self._last = -seconds

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() != self.message:
            return True
        now = time.monotonic()
        if now - self._last < self.seconds:
            return False
        self._last = now
        return True


def quiet_client_errors() -> None:
    """Install the client-error filter on chatkit's logger (once per process)."""
    chatkit_logger = logging.getLogger("chatkit")
    if not any(isinstance(f, ClientErrorsAsInfo) for f in chatkit_logger.filters):
        chatkit_logger.addFilter(ClientErrorsAsInfo())


def configure(level: str, json_lines: bool, stream: object = None) -> None:
    """Send every log line to stderr at ``level``, as text or JSON."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if json_lines else ContextFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    numeric = logging.getLevelName(level.upper()) if level != "trace" else 5
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    quiet_client_errors()
    uvicorn_errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, OncePer) for f in uvicorn_errors.filters):
        uvicorn_errors.addFilter(OncePer("Exceeded concurrency limit.", QUIET_SECONDS))
