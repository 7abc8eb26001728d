"""uvicorn's HTTP protocol (httptools), with the guards its ``Config`` does not offer.

uvicorn closes a keep-alive connection idle between requests, but nothing else:
a client that connects and sends nothing, or sends its headers a byte at a
time, or stops halfway through a body, or never reads what it asked for, holds
a connection (and a file descriptor, and the unsent answer) for ever. Beyond
``limit_concurrency`` connections it answers every request a bare ``503
Service Unavailable`` in plain text, without ``Retry-After``, even when those
connections are idle: 1 100 idle connections shut everyone else out.

``guarded_protocol`` returns a subclass of uvicorn's ``HttpToolsProtocol`` that:

- closes a connection that has not sent a whole request head within
  ``client_timeout`` seconds of connecting, or of starting a request (a slow
  sender cannot keep it by trickling bytes);
- closes one that sends no body bytes for ``client_timeout`` seconds while the
  application waits for them (not while the application itself is not reading);
- resets one that reads nothing of its answer for ``client_timeout`` seconds
  while the answer waits to be written (a slow reader: the rest of the answer
  is dropped, not kept in this process nor in the kernel until the client
  reads it);
- keeps at most ``cap`` connections: one more arriving closes the connection
  that has waited on its client the longest (no request in progress: waiting
  for its first request, trickling a head, kept alive between requests; or a
  request whose body has not all come), so idle and slow clients never stand
  between a new client and the server;
- answers requests beyond uvicorn's ``limit_concurrency`` (``cap`` connections
  all in the middle of a request) with chatkitd's own 503: OpenAI's error
  envelope with ``Retry-After``.

It relies on httptools' parser callbacks (``on_message_begin``,
``on_headers_complete``, ``on_body``, ``on_message_complete``) and
``on_response_complete`` being methods of the protocol, on
``self.flow.read_paused``, ``self.cycle.response_complete``, ``self.transport``,
``self.loop``, ``self.connections`` (the server's set of open connections), on
``pause_writing``/``resume_writing`` being the transport's flow-control calls,
and on ``_start_asgi_task(cycle, app)`` receiving uvicorn's
``service_unavailable`` app when over the limit (see ``REACHES``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from typing import Any

from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ASGIApp = Any
logger = logging.getLogger("chatkitd")
# Seconds between two log lines saying idle connections are being closed to make room.
SHED_LOG_SECONDS = 10.0


def guarded_protocol(client_timeout: float, over_capacity: ASGIApp, cap: int) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with client timeouts, at most ``cap`` connections (idle ones
    closed to make room) and ``over_capacity`` as the 503 app."""
    # This server's connections waiting on their client (``_waiting_on_client``), longest first.
    idle: dict[GuardedHttpToolsProtocol, None] = {}
    shed = {"count": 0, "logged": -SHED_LOG_SECONDS}

    def note_shed() -> None:
        shed["count"] += 1
        now = time.monotonic()
        if now - shed["logged"] >= SHED_LOG_SECONDS:
            logger.warning(
                "at the connection limit (%d): closing the connections idle longest to make room (%d so far)",
                cap,
                shed["count"],
            )
            shed["logged"] = now

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _client_timer: asyncio.TimerHandle | None = None
        _write_timer: asyncio.TimerHandle | None = None

        def _arm(self, callback: Any) -> None:
            self._disarm()
            self._client_timer = self.loop.call_later(client_timeout, callback)

        def _disarm(self) -> None:
            if self._client_timer is not None:
                self._client_timer.cancel()
                self._client_timer = None

        def _close(self) -> None:
            self._client_timer = None
            if not self.transport.is_closing():
                self.transport.close()

        def _body_stalled(self) -> None:
            # The application is not reading: the client is not the one being slow.
            if self.flow.read_paused:
                self._arm(self._body_stalled)
                return
            self._close()

        def _write_stalled(self) -> None:
            # close() would wait for the client to read the rest, and so would the kernel
            # after it: reset the connection, dropping what is unsent (nginx's
            # reset_timedout_connection).
            self._write_timer = None
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()

        def _waiting_on_client(self) -> bool:
            """No request in progress, or one whose body is still to come: the client's turn."""
            cycle: Any = self.cycle  # None until the first request's head (uvicorn types it otherwise)
            return cycle is None or cycle.response_complete or cycle.more_body

        def _touch(self) -> None:
            """The client did something: it goes last in line to be closed to make room."""
            idle.pop(self, None)
            if self._waiting_on_client() and not self.transport.is_closing():
                idle[self] = None

        def _make_room(self) -> None:
            """Beyond ``cap`` connections, close the one that has waited on its client the longest
            (not this one)."""
            while len(self.connections) > cap:
                oldest = next((other for other in idle if other is not self), None)
                if oldest is None:
                    return  # all busy: this connection's request will be answered 503
                idle.pop(oldest)
                self.connections.discard(oldest)
                oldest._disarm()
                oldest.transport.close()
                note_shed()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._touch()
            self._make_room()
            self._arm(self._close)  # the first request's head must come in time

        def connection_lost(self, exc: Exception | None) -> None:
            idle.pop(self, None)
            self._disarm()
            if self._write_timer is not None:
                self._write_timer.cancel()
                self._write_timer = None
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(self._close)  # from its first byte, a request's head has client_timeout

        def on_headers_complete(self) -> None:
            self._arm(self._body_stalled)  # cancelled when the body is complete
            super().on_headers_complete()
            self._touch()

        def on_body(self, body: bytes) -> None:
            super().on_body(body)
            self._arm(self._body_stalled)
            self._touch()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()
            self._touch()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._touch()

        def pause_writing(self) -> None:
            super().pause_writing()
            if self._write_timer is None:
                self._write_timer = self.loop.call_later(client_timeout, self._write_stalled)

        def resume_writing(self) -> None:
            super().resume_writing()
            if self._write_timer is not None:
                self._write_timer.cancel()
                self._write_timer = None

        def _start_asgi_task(self, cycle: Any, app: Any) -> None:
            super()._start_asgi_task(cycle, over_capacity if app is service_unavailable else app)

    return GuardedHttpToolsProtocol
