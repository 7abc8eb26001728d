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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transport", choices=["streamable-http", "sse", "stdio"], default="streamable-http")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if args.transport == "stdio":
        server.run("stdio")
    elif args.transport == "sse":
        server.run("sse", host="127.0.0.1", port=args.port)
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
