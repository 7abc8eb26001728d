"""How many bytes a request body may have, enforced once for every route, before any handler reads it.

An ASGI middleware, so a route cannot forget it: a declared ``Content-Length``
over the route's limit is a 413 before the handler runs, and a body sent
without one (chunked) is counted as it arrives and refused at the first byte
over (the handler's read raises ``PayloadTooLarge``, which becomes the 413).
Either way the connection is closed after the answer, so the rest of an
oversized body is never read; so is any connection whose answer starts before
its body was read to the end (an upload past the session's file size, a request
refused before its body was needed): the rest is not read and thrown away.
Nothing here holds the body; a handler that buffers it holds at most the limit.

Limits: ``MAX_BODY_BYTES`` for every JSON route; the upload routes stream to
disk under their own, tighter limits (the session's ``max_file_size``,
``CHATKITD_FILE_MAX_BYTES``), so here they get only an outer bound: the
largest file they could accept plus room for the multipart framing.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkitd.errors import PayloadTooLarge
from chatkitd.http.errors import error_response
from chatkitd.rest.input_policy import MAX_ATTACHMENT_BYTES, MAX_BODY_BYTES, MULTIPART_ROOM


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than the limit of {limit} bytes.",
        code="request_too_large",
    )


def route_limits(file_max_bytes: int) -> Callable[[str], int]:
    """The body limit of a request path."""
    attachments = MAX_ATTACHMENT_BYTES + MULTIPART_ROOM
    files = file_max_bytes + MULTIPART_ROOM

    def limit(path: str) -> int:
        upload = path.startswith("/v1/chatkit/files/") and path.endswith("/upload")
        if upload or path == "/v1/chatkit/files":
            return attachments
        if path == "/v1/files":
            return files
        return MAX_BODY_BYTES

    return limit


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        unread = False  # a body is coming that the app has not read to its end
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit():
                if int(value) > limit:
                    await _refuse(limit, send)
                    return
                unread = unread or int(value) > 0
            elif name == b"transfer-encoding":
                unread = True
        received = 0

        async def counted() -> Message:
            nonlocal received, unread
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
                unread = unread and message.get("more_body", False)
            return message

        async def closing(message: Message) -> None:
            if unread and message["type"] == "http.response.start":
                # The rest of the body is never read: the connection cannot be reused.
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, counted, closing)


async def _refuse(limit: int, send: Send) -> None:
    response = error_response(too_large(limit))
    response.headers["connection"] = "close"
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
