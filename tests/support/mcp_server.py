"""A small MCP server for the tests, built on the ``mcp`` package.

Run it as ``python -m tests.support.mcp_server --transport streamable-http --port N``
(or ``sse``, or ``stdio``). ``whoami`` checks the ``Authorization`` header
against ``EXPECTED_AUTHORIZATION`` in its own environment and never echoes it,
so a test can prove the header arrived without the secret reaching a trace.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server: MCPServer = MCPServer("crm")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def lookup_customer(customer_id: str) -> str:
    """A customer's record."""
    return f"Customer {customer_id}: Ada Lovelace, gold plan"


@server.tool()
def delete_customer(customer_id: str) -> str:
    """Delete a customer for good."""
    return f"Deleted customer {customer_id}"


@server.tool()
def whoami(ctx: Context) -> str:
    """Whether the caller sent the expected Authorization header."""
    sent = (ctx.headers or {}).get("authorization")
    return "authorized" if sent and sent == os.environ.get("EXPECTED_AUTHORIZATION") else "unauthorized"


@server.tool()
async def slow(seconds: float) -> str:
    """Answer after a while."""
    await asyncio.sleep(seconds)
    return "finally"


@server.tool()
def broken() -> str:
    """Always fails."""
    raise ToolError("the CRM is down for maintenance")


HANDSHAKES = 0


@server.tool()
def handshakes() -> int:
    """How many times a client opened a connection (an MCP handshake) to this server."""
    return HANDSHAKES


@server.tool()
def grow() -> str:
    """Add a tool named `extra` to this server's list."""

    def extra() -> str:
        """A tool that did not exist at first."""
        return "extra!"

    server.add_tool(extra, name="extra")
    return "grown"


class CountHandshakes:
    """ASGI middleware counting the requests that open a client connection."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if b'"method":"server/discover"' in body.replace(
            b" ", b""
        ) or b'"method":"initialize"' in body.replace(b" ", b""):
            global HANDSHAKES
            HANDSHAKES += 1
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RefuseEveryone:
    """ASGI middleware answering every request 401, as a server does to credentials it rejects."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        await send(
            {"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"invalid token"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["streamable-http", "sse", "stdio"], default="streamable-http")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--refuse-everyone", action="store_true", help="answer every request 401")
    args = parser.parse_args()
    if args.transport == "stdio":
        server.run("stdio")
    elif args.transport == "sse":
        server.run("sse", host="127.0.0.1", port=args.port)
    else:
        app: Any = CountHandshakes(server.streamable_http_app())
        if args.refuse_everyone:
            app = RefuseEveryone(app)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
