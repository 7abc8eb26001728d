"""The request context every store call receives.

It says who is asking: the project, and for a client secret the user and the
session. The store applies isolation from it, once, so no route can forget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatkitd.store.sessions import SessionRecord
    from chatkitd.tracing.runs import RunTrace


@dataclass
class RequestContext:
    project_id: str
    # Set for client-secret callers; None means an admin key that sees all users.
    user: str | None = None
    session: SessionRecord | None = None
    locale: str | None = None
    # Free room for the runtime to pass per-request state to workflows.
    extras: dict[str, Any] = field(default_factory=dict)
    # The trace of the workflow run this request started; the runtime sets it for every run.
    run_trace: RunTrace | None = None

    @classmethod
    def for_session(cls, session: SessionRecord, locale: str | None = None) -> RequestContext:
        return cls(project_id=session.project_id, user=session.user, session=session, locale=locale)
