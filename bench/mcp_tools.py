"""What chatkitd adds per MCP tool call, over calling the MCP server directly.

    .venv/bin/python bench/mcp_tools.py [--runs 20] [--calls 10]

One MCP server (``tests.support.mcp_server``, the ``mcp`` package, streamable
HTTP on loopback) serves both sides, in the same process, interleaved:

- direct: the Agents SDK's own ``MCPServerStreamableHttp`` client, connected
  once, calling ``add`` ``--calls`` times in a row (the MCP round trip alone);
- chatkitd: a deployed YAML workflow on the offline scripted model whose turn
  calls the MCP server's ``add`` ``--calls`` times, through
  ``AgentWorkflow.respond`` (the managed connection, the tool list cache,
  the SDK's conversion into function tools, tracing off);
- local: the same workflow with a local Python ``add`` tool instead, so
  the turn's own cost (one scripted model call and stream per tool call) is
  known.

Per MCP call in chatkitd = (chatkitd turn − local turn) / calls. Added by
chatkitd = that − the direct call. Medians over ``--runs``. Target (issue
11): under 2 ms added per call.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # for tests.support

from agents.mcp import MCPServerStreamableHttp
from agents.tracing import set_trace_processors
from chatkit.types import ThreadItemDoneEvent

from chatkitd.context import RequestContext
from chatkitd.platform import Platform
from chatkitd.rest.sessions import SessionCreateBody, create_session
from chatkitd.settings import Settings
from chatkitd.store.keys import ensure_project
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
"""
MCP_TOOL = "mcp: {{server_label: crm, url: '{url}', require_approval: never, allowed_tools: [add]}}"
LOCAL_TOOL = "python: bench.mcp_tools:add"


def add(a: int, b: int) -> int:
    """Add two integers (the local twin of the MCP server's ``add``)."""
    return a + b


async def deploy(
    platform: Platform, project_id: str, workflow_id: str, tool: str, calls: int
) -> RequestContext:
    steps = "{call: {name: add, arguments: {a: 2, b: 3}}}, " * calls
    definition = WORKFLOW.format(id=workflow_id, steps=steps, tool=tool)
    await platform.workflows.deploy(
        project_id, Deployable(id=workflow_id, name=workflow_id, kind="yaml", definition=definition)
    )
    body = SessionCreateBody.model_validate(
        {"user": "bench", "workflow": {"id": workflow_id, "tracing": {"enabled": False}}}
    )
    record, _ = await create_session(platform.db, platform.workflows, project_id, body)
    return RequestContext.for_session(record)


async def turn(platform: Platform, context: RequestContext, calls: int) -> float:
    store = platform.threads
    assert context.session is not None
    thread = await make_thread(store, context)
    item = user_message(store, thread, context, "add")
    await store.add_thread_item(thread.id, item, context)
    workflow = await platform.workflows.load(context.project_id, context.session.workflow_id, None)
    start = time.perf_counter()
    texts = 0
    async for event in workflow.respond(thread, item, context, store):
        texts += isinstance(event, ThreadItemDoneEvent) and event.item.type == "assistant_message"
    assert texts == 1
    return time.perf_counter() - start


async def direct(client: MCPServerStreamableHttp, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error
    return (time.perf_counter() - start) / calls


async def main(runs: int, calls: int) -> None:
    set_trace_processors([])  # nothing leaves the machine
    with McpServerProcess("streamable-http") as server, tempfile.TemporaryDirectory() as tmp:
        platform = Platform(Settings(data_dir=Path(tmp)))
        await platform.start()
        project_id = await ensure_project(platform.db, "default")
        via_mcp = await deploy(platform, project_id, "via-mcp", MCP_TOOL.format(url=server.url), calls)
        local = await deploy(platform, project_id, "local", LOCAL_TOOL, calls)
        async with MCPServerStreamableHttp(name="direct", params={"url": server.url}) as client:
            samples: dict[str, list[float]] = {"direct": [], "chatkitd": [], "local": []}
            for i in range(runs + 3):
                gc.collect()
                measured = (
                    await direct(client, calls),
                    await turn(platform, via_mcp, calls),
                    await turn(platform, local, calls),
                )
                if i >= 3:  # warm-up
                    for name, value in zip(samples, measured, strict=True):
                        samples[name].append(value)
        await platform.stop()

    per_direct = statistics.median(samples["direct"])
    differences = [(m - lo) / calls for m, lo in zip(samples["chatkitd"], samples["local"], strict=True)]
    per_chatkitd = statistics.median(differences)
    added = per_chatkitd - per_direct
    turn_mcp, turn_local = statistics.median(samples["chatkitd"]), statistics.median(samples["local"])
    print(f"mcp bench: {runs} runs, {calls} calls to `add` per turn, streamable HTTP on loopback")
    print(f"  direct MCP call (SDK client)       {per_direct * 1e3:8.3f} ms per call")
    print(f"  chatkitd turn, MCP tool            {turn_mcp * 1e3:8.3f} ms per turn")
    print(f"  chatkitd turn, local tool          {turn_local * 1e3:8.3f} ms per turn")
    print(
        f"  MCP call inside chatkitd           {per_chatkitd * 1e3:8.3f} ms per call "
        f"({per_chatkitd / per_direct:.2f}x the direct call)"
    )
    print(f"  added by chatkitd per MCP call     {added * 1e3:8.3f} ms   (target < 2 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--calls", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.calls))
