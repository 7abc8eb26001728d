"""uvicorn's HTTP protocol (httptools), with the guards its ``Config`` does not offer.

uvicorn closes a keep-alive connection idle between requests, but nothing else:
a client that connects and sends nothing, or sends its headers a byte at a
time, or stops halfway through a body, holds a connection (and a file
descriptor) for ever. And beyond ``limit_concurrency`` it answers a bare
``503 Service Unavailable`` in plain text, without ``Retry-After``.

``guarded_protocol`` returns a subclass of uvicorn's ``HttpToolsProtocol`` that:

- closes a connection that has not sent a whole request head within
  ``client_timeout`` seconds of connecting, or of starting a request (a slow
  sender cannot keep it by trickling bytes);
- closes one that sends no body bytes for ``client_timeout`` seconds while the
  application waits for them (not while the application itself is not reading);
- answers requests beyond uvicorn's ``limit_concurrency`` with chatkitd's own
  503: OpenAI's error envelope with ``Retry-After``.

It relies on httptools' parser callbacks (``on_message_begin``,
``on_headers_complete``, ``on_body``, ``on_message_complete``) being methods of
the protocol, on ``self.flow.read_paused``, ``self.transport``, ``self.loop``,
and on ``_start_asgi_task(cycle, app)`` receiving uvicorn's
``service_unavailable`` app when over the limit (see ``REACHES``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ASGIApp = Any


def guarded_protocol(client_timeout: float, over_capacity: ASGIApp) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with client timeouts and ``over_capacity`` as the 503 app."""

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        _client_timer: asyncio.TimerHandle | None = None

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

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(self._close)  # the first request's head must come in time

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm(self._close)  # from its first byte, a request's head has client_timeout

        def on_headers_complete(self) -> None:
            self._arm(self._body_stalled)  # cancelled when the body is complete
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            super().on_body(body)
            self._arm(self._body_stalled)

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def _start_asgi_task(self, cycle: Any, app: Any) -> None:
            super()._start_asgi_task(cycle, over_capacity if app is service_unavailable else app)

    return GuardedHttpToolsProtocol
