"""Every failure becomes OpenAI's error envelope with the status the SDK expects."""

from __future__ import annotations

import json
import logging
from typing import Any

from chatkit.store import NotFoundError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatkitd.blobs import BlobUnavailable
from chatkitd.errors import (
    APIError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    ServerError,
    ServiceUnavailable,
)
from chatkitd.http.state import platform_of
from chatkitd.rest.validation import from_validation_error
from chatkitd.store import availability
from chatkitd.store.paging import UnknownCursor

logger = logging.getLogger("chatkitd")


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(error.envelope(), status_code=error.status, headers=error.headers)


def as_api_error(exc: Exception) -> APIError:
    """The APIError a caller should see for ``exc``."""
    match exc:
        case APIError():
            return exc
        case NotFoundError():
            return NotFound(str(exc) or "Not found.", code="not_found")
        case BlobUnavailable():
            logger.warning("object store unavailable: %s", exc)
            return ServiceUnavailable(
                "The file store is not answering; try again shortly.",
                code="storage_unavailable",
                headers={"Retry-After": "5"},
            )
        case UnknownCursor():
            return InvalidRequest(str(exc), param=exc.param, code="invalid_cursor")
        case ValidationError():
            return from_validation_error(exc)
        case json.JSONDecodeError() | UnicodeDecodeError():
            return InvalidRequest("The request body is not valid JSON.", code="invalid_json")
        case HTTPException(status_code=404):
            return NotFound("Unknown route.", code="unknown_route")
        case HTTPException(status_code=405):
            # Keep Starlette's Allow header: it tells the caller what would work.
            return MethodNotAllowed(
                "Method not allowed for this route.",
                code="method_not_allowed",
                headers=dict(exc.headers or {}),
            )
        case HTTPException():
            error = APIError(exc.detail or "Request failed.")
            error.status = exc.status_code
            return error
    logger.exception("unhandled error", exc_info=exc)
    return ServerError("The server had an error while processing your request.")


def _database_away(request: Request, exc: Exception) -> APIError | None:
    """A 503 with Retry-After when the database is busy or unavailable (logged once per outage)."""
    kind = availability.kind_of(exc)
    if kind is None:
        return None
    retry_after = platform_of(request).db.availability.refused(kind, exc)
    message = (
        "The database is busy with another write; retry shortly."
        if kind == "busy"
        else "The database is unavailable; retry shortly."
    )
    return ServiceUnavailable(message, code=f"database_{kind}", headers={"Retry-After": str(retry_after)})


async def handle_exception(request: Request, exc: Exception) -> Response:
    return error_response(_database_away(request, exc) or as_api_error(exc))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    # Starlette answers an ``Exception`` handler's response and then raises the error again
    # for the server to log with its traceback; the classes below are answered and done.
    Exception: handle_exception,
    # The database's own errors, whose busy or unavailable kind is a 503, logged once per outage.
    **{kind: handle_exception for kind in availability.DATABASE_ERRORS},
    HTTPException: handle_exception,
    APIError: handle_exception,
    NotFoundError: handle_exception,
    UnknownCursor: handle_exception,
    ValidationError: handle_exception,
    BlobUnavailable: handle_exception,
}
