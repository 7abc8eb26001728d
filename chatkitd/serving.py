"""How ``chatkitd serve`` runs the app under uvicorn, so that many or misbehaving clients cannot
take the server down for the others.

- The process's soft limit on open files is raised to its hard limit at start:
  each connection is a file descriptor, and the common soft default (1 024)
  let 1 100 idle connections stop the server from accepting anyone.
- At most ``CHATKITD_MAX_CONNECTIONS`` connections (fewer if the file limit
  leaves less room, keeping ``FD_RESERVE`` for the database, uploads and
  logs) are kept: a connection arriving beyond them closes the one idle the
  longest, so idle clients never shut out a new one; only when every
  connection is in the middle of a request is a new request answered 503 with
  ``Retry-After``, in OpenAI's error envelope, and its connection closed.
- A client that keeps a connection without sending a whole request in time,
  stops sending a body, or stops reading its answer, is disconnected after
  ``CHATKITD_CLIENT_TIMEOUT`` seconds (``chatkitd.compat.uvicorn``); between
  requests, a keep-alive connection may idle ``KEEP_ALIVE`` seconds.

The tests' servers are built here too (``tests/support/servers.py``), so they
run with these guards.
"""

from __future__ import annotations

import logging
import resource
import socket
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send

from chatkitd.compat.uvicorn import guarded_protocol
from chatkitd.errors import ServiceUnavailable
from chatkitd.settings import Settings, SettingsError

logger = logging.getLogger("chatkitd")

# File descriptors kept for everything that is not a client connection.
FD_RESERVE = 256
KEEP_ALIVE = 5
OVER_CAPACITY_RETRY_AFTER = 1


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
    if soft == resource.RLIM_INFINITY or wanted <= soft:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as error:
        logger.warning("could not raise the open-file limit from %d to %d: %s", soft, wanted, error)
        return soft
    return wanted


def connection_cap(settings: Settings, file_limit: int) -> int:
    """How many connections are served at once: the setting, within what the file limit allows."""
    room = (
        max(1, file_limit - FD_RESERVE) if file_limit != resource.RLIM_INFINITY else settings.max_connections
    )
    cap = min(settings.max_connections, room)
    if cap < settings.max_connections:
        logger.warning(
            "serving at most %d connections, not CHATKITD_MAX_CONNECTIONS=%d: the open-file limit is %d",
            cap,
            settings.max_connections,
            file_limit,
        )
    return cap


async def over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request beyond the connection cap."""
    from chatkitd.http.errors import error_response  # the envelope, from the HTTP layer

    response = error_response(
        ServiceUnavailable(
            "The server is at its connection limit; retry shortly.",
            code="over_capacity",
            headers={"Retry-After": str(OVER_CAPACITY_RETRY_AFTER), "Connection": "close"},
        )
    )
    await response(scope, receive, send)


def check_address(settings: Settings) -> None:
    """Bind and let go of the address ``chatkitd serve`` will listen on, as uvicorn will bind it,
    before anything starts: a host that does not resolve or a port in use is one line naming the
    settings, not uvicorn's bare ``[Errno 98]`` after the migrations ran."""
    where = f"{settings.host}:{settings.port} (CHATKITD_HOST and CHATKITD_PORT, or --host and --port)"
    try:
        addresses = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
    except OSError as error:
        raise SettingsError(f"Cannot listen on {where}: {error.strerror or error}.") from None


def uvicorn_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app``: the guards above, then ``overrides``."""
    cap = connection_cap(settings, raise_file_limit())
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "proxy_headers": True,
        "http": guarded_protocol(settings.client_timeout, over_capacity, cap),
        # uvicorn counts the connection asking, so cap + 1 serves exactly ``cap``.
        "limit_concurrency": cap + 1,
        "timeout_keep_alive": KEEP_ALIVE,
        # chatkitd logs on its own (``chatkitd.logs``) and writes its own access log.
        "log_config": None,
        "access_log": False,
        **overrides,
    }
    return uvicorn.Config(app, **options)
