"""What the log knows about the request being served: its id, and the project, session, thread and
workflow once they are known.

The access log (``chatkitd.http.access_log``) starts a request's fields; code
that learns an id adds it (``add``); log lines (``chatkitd.logs``) and the
access line carry them. The fields are one dict per request, shared by the
tasks the request starts, so an id added anywhere in the request is seen by its
access line. Never put a credential here: ids only.
"""

from __future__ import annotations

from contextvars import ContextVar

_fields: ContextVar[dict[str, str] | None] = ContextVar("chatkitd_log_fields", default=None)


def begin(request_id: str) -> dict[str, str]:
    """Start the fields of a new request; returned so its access line can read them."""
    fields = {"request_id": request_id}
    _fields.set(fields)
    return fields


def add(**fields: str | None) -> None:
    """Add ids the request now knows (a None is left out); outside a request, nothing."""
    current = _fields.get()
    if current is not None:
        current.update({name: value for name, value in fields.items() if value is not None})


def current() -> dict[str, str] | None:
    return _fields.get()
