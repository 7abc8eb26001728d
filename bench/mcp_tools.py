"""What chatkitd adds per MCP tool call, over calling the MCP server directly.

    .venv/bin/python bench/mcp_tools.py [--runs 60] [--calls 10]

One MCP server (``tests.support.mcp_server``, the ``mcp`` package, streamable
HTTP on loopback, a process of its own) serves every side, interleaved run by run:

- mcp client: the ``mcp`` package's own ``ClientSession`` on its
  ``streamable_http_client``, as its documentation sets them up, connected
  once, calling ``add`` ``--calls`` times in a row;
- SDK client: the Agents SDK's ``MCPServerStreamableHttp`` (the client
  chatkitd connects with), the same calls. It keeps its HTTP connection
  alive where the ``mcp`` client's default set-up opens one per call (mcp
  2.3), so it is the faster direct client and the baseline;
- managed: the same calls through chatkitd's ``ManagedMcpServer`` (its
  connection layer alone: allowed tools, timeout, failure handling);
- chatkitd: a deployed YAML workflow on the offline scripted model whose turn
  calls the MCP server's ``add`` ``--calls`` times, through
  ``AgentWorkflow.respond`` (the managed connection, the tool list cache,
  the SDK's conversion into function tools), with tracing off and again
  with tracing on (the default: every call a span of the run's trace);
- local: the same workflow with local Python twins of the server's eight
  tools instead (traced and not), so the turn's own cost (one scripted model
  call and stream per tool call, the SDK's work for eight tools offered) is
  known.

Per MCP call in chatkitd = (chatkitd turn − local turn) / calls. Added by
chatkitd = that − the SDK client's call measured in the same run; the
median over ``--runs`` (with its 95 % confidence interval), in wall-clock time and in
CPU time of this process (the server's time is the same for every side and is
not in the CPU figure, so that figure is what chatkitd's own code costs per
call, and it stays readable on a loaded machine). The load average is printed
with the figures: on a shared machine the wall-clock spread follows it.
Target (issue 11): under 2 ms added per call.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # for tests.support

import os
from typing import Any

from agents.mcp import MCPServer, MCPServerStreamableHttp
from chatkit.types import ThreadItemDoneEvent
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from chatkitd.context import RequestContext
from chatkitd.platform import Platform
from chatkitd.rest.sessions import SessionCreateBody, create_session
from chatkitd.settings import Settings
from chatkitd.store.keys import ensure_project
from chatkitd.tools.mcp import McpToolConfig, mcp_server
from chatkitd.workflows.definitions import Deployable
from tests.support.mcp import McpServerProcess
from tests.support.seed import make_thread, user_message

WORKFLOW = """
id: {id}
provider:
  type: scripted
  script:
    - steps: [{steps}{{text: "done"}}]
tools:
  - {tool}
max_turns: 100
"""
# All the test server's eight tools, as a server is usually configured: the model sees them all.
MCP_TOOL = "mcp: {{server_label: crm, url: '{url}', require_approval: never}}"
# The local twins of the server's eight tools, so both turns offer the model as many tools (the
# Agents SDK's own work per model call grows with the tools offered, MCP or not). Coroutines: the
# SDK runs a plain function in a thread, which would make the local turn dearer than it is.
LOCAL_TOOLS = "\n  - ".join(
    f"python: bench.mcp_tools:{name}"
    for name in (
        "add",
        "lookup_customer",
        "delete_customer",
        "whoami",
        "slow",
        "broken",
        "handshakes",
        "grow",
    )
)


async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def lookup_customer(customer_id: str) -> str:
    """A customer's record."""
    return f"Customer {customer_id}: Ada Lovelace, gold plan"


async def delete_customer(customer_id: str) -> str:
    """Delete a customer for good."""
    return f"Deleted customer {customer_id}"


async def whoami() -> str:
    """Whether the caller sent the expected Authorization header."""
    return "authorized"


async def slow(seconds: float) -> str:
    """Answer after a while."""
    return "finally"


async def broken() -> str:
    """Always fails."""
    raise RuntimeError("the CRM is down for maintenance")


async def handshakes() -> int:
    """How many times a client opened a connection (an MCP handshake) to this server."""
    return 1


async def grow() -> str:
    """Add a tool named `extra` to this server's list."""
    return "grown"


async def deploy(
    platform: Platform, project_id: str, workflow_id: str, tool: str, calls: int, traced: bool
) -> RequestContext:
    steps = "{call: {name: add, arguments: {a: 2, b: 3}}}, " * calls
    definition = WORKFLOW.format(id=workflow_id, steps=steps, tool=tool)
    await platform.workflows.deploy(
        project_id, Deployable(id=workflow_id, name=workflow_id, kind="yaml", definition=definition)
    )
    body = SessionCreateBody.model_validate(
        {"user": "bench", "workflow": {"id": workflow_id, "tracing": {"enabled": traced}}}
    )
    record, _ = await create_session(platform.db, platform.workflows, project_id, body)
    return RequestContext.for_session(record)


Sample = tuple[float, float]  # wall-clock and CPU seconds of this process


def _now() -> Sample:
    return time.perf_counter(), time.process_time()


def _since(start: Sample, per: int = 1) -> Sample:
    wall, cpu = _now()
    return (wall - start[0]) / per, (cpu - start[1]) / per


async def turn(platform: Platform, context: RequestContext, calls: int) -> Sample:
    store = platform.threads
    assert context.session is not None
    thread = await make_thread(store, context)
    item = user_message(store, thread, context, "add")
    await store.add_thread_item(thread.id, item, context)
    workflow = await platform.workflows.load(context.project_id, context.session.workflow_id, None)
    start = _now()
    texts = 0
    async for event in workflow.respond(thread, item, context, store):
        texts += isinstance(event, ThreadItemDoneEvent) and event.item.type == "assistant_message"
    assert texts == 1
    return _since(start)


async def direct(client: MCPServer | ClientSession, calls: int) -> Sample:
    start = _now()
    for _ in range(calls):
        result: Any = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error
    return _since(start, calls)


TURNS = {  # workflow id: (tool, traced)
    "via-mcp": ("mcp", False),
    "local": ("local", False),
    "via-mcp-traced": ("mcp", True),
    "local-traced": ("local", True),
}


async def main(runs: int, calls: int) -> None:
    with McpServerProcess("streamable-http") as server, tempfile.TemporaryDirectory() as tmp:
        platform = Platform(Settings(data_dir=Path(tmp)))
        await platform.start()  # installs chatkitd's trace processor: nothing leaves the machine
        project_id = await ensure_project(platform.db, "default")
        tools = {"mcp": MCP_TOOL.format(url=server.url), "local": LOCAL_TOOLS}
        contexts = {
            name: await deploy(platform, project_id, name, tools[tool], calls, traced)
            for name, (tool, traced) in TURNS.items()
        }
        async with (
            streamable_http_client(server.url) as (read, write),
            ClientSession(read, write) as session,
            MCPServerStreamableHttp(name="direct", params={"url": server.url}) as client,
        ):
            await session.initialize()
            await session.list_tools()  # the session checks results against the listed schemas
            managed = mcp_server(McpToolConfig(server_label="crm", url=server.url, require_approval="never"))
            samples: dict[str, list[Sample]] = {
                "mcp": [],
                "sdk": [],
                "managed": [],
                **{name: [] for name in TURNS},
            }
            for i in range(runs + 3):
                gc.collect()
                measured = [
                    await direct(session, calls),
                    await direct(client, calls),
                    await direct(managed, calls),
                ]
                for name in TURNS:
                    measured.append(await turn(platform, contexts[name], calls))
                if i >= 3:  # warm-up
                    for name, value in zip(samples, measured, strict=True):
                        samples[name].append(value)
        await platform.stop()

    load = "/".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"mcp bench: {runs} runs, {calls} calls to `add` per turn, streamable HTTP on loopback")
    print(f"load average at the end (1/5/15 min): {load} on {os.cpu_count()} CPUs")
    print(f"{'':40}{'wall clock':>28}{'CPU of this process':>30}")
    for kind, index in (("wall", 0), ("cpu", 1)):
        pick = {name: [sample[index] for sample in values] for name, values in samples.items()}

        untraced = _inside(pick, "via-mcp", "local", calls)
        traced = _inside(pick, "via-mcp-traced", "local-traced", calls)
        rows = {
            "mcp client call": pick["mcp"],
            "Agents SDK client call (baseline)": pick["sdk"],
            "through the managed server": pick["managed"],
            "MCP call in a chatkitd turn": untraced,
            "MCP call in a traced chatkitd turn": traced,
            "added by the managed server": _less(pick, pick["managed"]),
            "ADDED BY CHATKITD per call": _less(pick, untraced),
            "ADDED BY CHATKITD per call, traced": _less(pick, traced),
            "  the same, over the mcp client": _less(pick, untraced, "mcp"),
        }
        results[kind] = {label: _spread(values) for label, values in rows.items()}
    for label in results["wall"]:
        print(f"  {label:38}{results['wall'][label]:>28}{results['cpu'][label]:>30}")
    print("  target: under 2 ms added per MCP call")


def _inside(pick: dict[str, list[float]], mcp_turn: str, local_turn: str, calls: int) -> list[float]:
    """The MCP call inside a chatkitd turn: its turn less the local-tool turn of the same run
    (paired within each run: the machine's load moves between runs)."""
    return [(m - lo) / calls for m, lo in zip(pick[mcp_turn], pick[local_turn], strict=True)]


def _less(pick: dict[str, list[float]], values: list[float], baseline: str = "sdk") -> list[float]:
    return [v - d for v, d in zip(values, pick[baseline], strict=True)]


results: dict[str, dict[str, str]] = {}


def _spread(values: list[float]) -> str:
    """The median, in ms, and its 95 % confidence interval: the order statistics n/2 ± 0.98·√n,
    which hold whatever the distribution (a loaded machine's timings are anything but normal)."""
    ordered = sorted(values)
    n = len(ordered)
    reach = 0.98 * math.sqrt(n)
    low, high = ordered[max(0, math.floor(n / 2 - reach))], ordered[min(n - 1, math.ceil(n / 2 + reach))]
    return f"{statistics.median(ordered) * 1e3:.3f} ms [{low * 1e3:.2f}, {high * 1e3:.2f}]"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--calls", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.calls))
