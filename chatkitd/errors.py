"""Errors that reach callers, in OpenAI's envelope.

The ``openai`` SDK maps the status to its exception classes
(400 BadRequestError, 401 AuthenticationError, 404 NotFoundError, ...), and
reads ``message``, ``type``, ``param`` and ``code`` from the envelope.
"""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    status = 400
    type = "invalid_request_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(APIError):
    status = 400


class Unauthenticated(APIError):
    status = 401
    type = "authentication_error"


class PermissionDenied(APIError):
    status = 403
    type = "permission_error"


class NotFound(APIError):
    status = 404


class MethodNotAllowed(APIError):
    status = 405


class Conflict(APIError):
    status = 409


class PayloadTooLarge(APIError):
    status = 413


class Unprocessable(APIError):
    status = 422


class RateLimited(APIError):
    status = 429
    type = "rate_limit_error"


class UpstreamError(APIError):
    """A service chatkitd calls for the request (a transcription endpoint) failed."""

    status = 502
    type = "server_error"


class ServiceUnavailable(APIError):
    """Not the request's fault, and passing: the answer carries ``Retry-After``."""

    status = 503
    type = "server_error"


class ServerError(APIError):
    status = 500
    type = "server_error"
