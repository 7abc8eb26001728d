"""``POST /v1/chatkit/conversation``: the ChatKit protocol, for a session's client secret.

Thin by design: admit the secret, hand the body to ``ConversationServer.process``,
wrap what comes back as JSON or as a server-sent event stream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing

from chatkit.server import NonStreamingResult
from chatkit.types import ErrorEvent
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from chatkitd.context import RequestContext
from chatkitd.http.admission import client_context
from chatkitd.http.body import read_body
from chatkitd.http.state import platform_of
from chatkitd.runtime.detached import detached_batches
from chatkitd.store.deferred import hold_frames, settle

logger = logging.getLogger("chatkitd")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_BROKEN_STREAM = (
    b"data: " + ErrorEvent(code="stream.error", allow_retry=True).model_dump_json().encode() + b"\n\n"
)


async def conversation(request: Request) -> Response:
    context = await client_context(request)
    server = platform_of(request).conversation
    # Every frame below waits for the writes it acknowledges (``settle``): some may be held back.
    hold_frames(context)
    result = await server.process(await read_body(request), context)
    if isinstance(result, NonStreamingResult):
        await settle(context)
        return Response(result.json, media_type="application/json")
    stream = _chunks(result, context)
    # chatkit raises "thread not found" and the like only once iterated: take the
    # first frame here, so those still become proper 4xx responses.
    try:
        first = await anext(stream)
    except StopAsyncIteration:
        return Response(b"", media_type="text/event-stream", headers=SSE_HEADERS)
    return StreamingResponse(_frames(first, stream), media_type="text/event-stream", headers=SSE_HEADERS)


async def _chunks(result: AsyncIterable[bytes], context: RequestContext) -> AsyncIterator[bytes]:
    """The stream's frames, those ready together joined into one write (``detached_batches``),
    each sent once what it acknowledges is committed (``chatkitd.store.deferred``)."""
    async with aclosing(detached_batches(result)) as batches:
        async for batch in batches:
            await settle(context)
            yield batch[0] if len(batch) == 1 else b"".join(batch)


async def _frames(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    try:
        async for frame in rest:
            yield frame
    except Exception:
        # Headers are sent; the client gets an error event, not a torn stream.
        logger.exception("conversation stream failed")
        yield _BROKEN_STREAM


routes = [Route("/v1/chatkit/conversation", conversation, methods=["POST"])]
