"""A small CRM as an MCP server, for the order-desk example (``examples/order-desk.yaml``).

    python examples/mcp/crm_server.py            # streamable HTTP on http://127.0.0.1:8931/mcp
    python examples/mcp/crm_server.py --sse      # the older SSE transport, on /sse

Built on the ``mcp`` package (installed with chatkitd). When ``CRM_TOKEN`` is
set, every request must carry it as its ``Authorization`` header, as a real
CRM would demand; chatkitd sends it from its own environment
(``headers: {Authorization: "env:CRM_TOKEN"}``), never from the workflow file.
"""

from __future__ import annotations

import argparse
import os

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

crm: MCPServer = MCPServer("crm", instructions="Customers, their orders, and refunds.")

CUSTOMERS = {"C-100": "Ada Lovelace", "C-200": "Grace Hopper"}
ORDERS = {
    "O-1": {"customer": "C-100", "item": "Analytical engine manual", "total_eur": 42.0, "refunded": False},
    "O-2": {"customer": "C-100", "item": "Punch cards (500)", "total_eur": 18.5, "refunded": False},
    "O-3": {"customer": "C-200", "item": "Compiler handbook", "total_eur": 35.0, "refunded": False},
}


def _check(ctx: Context) -> None:
    expected = os.environ.get("CRM_TOKEN")
    if expected and (ctx.headers or {}).get("authorization") != expected:
        raise ToolError("not authorized")


@crm.tool()
def lookup_customer(customer_id: str, ctx: Context) -> str:
    """A customer's name, by id (like C-100)."""
    _check(ctx)
    name = CUSTOMERS.get(customer_id)
    if name is None:
        raise ToolError(f"no customer {customer_id}")
    return f"{customer_id}: {name}"


@crm.tool()
def list_orders(customer_id: str, ctx: Context) -> list[dict[str, object]]:
    """A customer's orders, with their totals and whether they were refunded."""
    _check(ctx)
    return [{"order_id": oid, **order} for oid, order in ORDERS.items() if order["customer"] == customer_id]


@crm.tool()
def refund_order(order_id: str, reason: str, ctx: Context) -> str:
    """Refund an order in full. Irreversible: the workflow asks a person first."""
    _check(ctx)
    order = ORDERS.get(order_id)
    if order is None:
        raise ToolError(f"no order {order_id}")
    if order["refunded"]:
        raise ToolError(f"order {order_id} was already refunded")
    order["refunded"] = True
    return f"Refunded {order['total_eur']:.2f} EUR for order {order_id} ({reason})."


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--sse", action="store_true", help="serve the SSE transport instead")
    args = parser.parse_args()
    if args.sse:
        crm.run("sse", host="127.0.0.1", port=args.port)
    else:
        crm.run("streamable-http", host="127.0.0.1", port=args.port)
