"""Every failure becomes OpenAI's error envelope with the status the SDK expects."""

from __future__ import annotations

import json
import logging

from chatkit.store import NotFoundError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatkitd.blobs import BlobUnavailable
from chatkitd.errors import APIError, InvalidRequest, MethodNotAllowed, NotFound, ServerError, Unavailable
from chatkitd.rest.validation import from_validation_error
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
            return Unavailable(
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


async def handle_exception(request: Request, exc: Exception) -> Response:
    return error_response(as_api_error(exc))


EXCEPTION_HANDLERS = {
    Exception: handle_exception,
    HTTPException: handle_exception,
    APIError: handle_exception,
    NotFoundError: handle_exception,
    UnknownCursor: handle_exception,
    ValidationError: handle_exception,
    BlobUnavailable: handle_exception,
}
