"""Admitting a client secret: an active session, within its rate limit, or the right 401/429."""

from __future__ import annotations

from starlette.requests import Request

from chatkitd import credentials, log_context
from chatkitd.context import RequestContext
from chatkitd.errors import RateLimited, Unauthenticated
from chatkitd.http.auth import bearer_token
from chatkitd.http.domain_keys import check_page_origin
from chatkitd.http.state import platform_of
from chatkitd.store.sessions import Admission, SessionRecord, admit_request, get_session


def _admitted(admission: Admission) -> SessionRecord:
    session = admission.session
    if session is None:
        raise Unauthenticated("Invalid client secret.", code="invalid_client_secret")
    status = session.status()
    if status == "expired":
        raise Unauthenticated("This session's client secret has expired.", code="session_expired")
    if status == "cancelled":
        raise Unauthenticated("This session has been cancelled.", code="session_cancelled")
    if admission.retry_after is not None:
        raise RateLimited(
            f"Rate limit of {session.rate_limit} requests per minute reached for this session.",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(admission.retry_after)},
        )
    return session


def base_url(request: Request) -> str:
    settings = platform_of(request).settings
    return (settings.public_url or str(request.base_url)).rstrip("/")


def session_context(request: Request, session: SessionRecord) -> RequestContext:
    log_context.add(project=session.project_id, session=session.id, workflow=session.workflow_id)
    context = RequestContext.for_session(session, locale=request.headers.get("accept-language"))
    context.extras["base_url"] = base_url(request)
    return context


async def client_context(request: Request) -> RequestContext:
    """The context of the client secret in ``Authorization``, from a registered page when
    ``CHATKITD_DOMAIN_KEYS`` is set (``domain_keys``); counts the request."""
    check_page_origin(request)
    db = platform_of(request).db
    admission = await admit_request(db, credentials.digest(bearer_token(request)))
    return session_context(request, _admitted(admission))


async def session_request_context(request: Request, project_id: str, session_id: str) -> RequestContext:
    """The same admission for a request signed for one of the session's attachments."""
    db = platform_of(request).db
    session = await get_session(db, session_id, project_id)
    if session is None:
        raise Unauthenticated("Invalid client secret.", code="invalid_client_secret")
    return session_context(request, _admitted(await admit_request(db, session.secret_digest)))
