"""What chatkitd adds per MCP tool call, over calling the MCP server directly.

    .venv/bin/python bench/mcp_tools.py [--runs 20] [--calls 10]

One MCP server (``tests.support.mcp_server``, the ``mcp`` package, streamable
HTTP on loopback) serves both sides, in the same process, interleaved:

- direct: the Agents SDK's own ``MCPServerStreamableHttp`` client, connected
  once, calling ``add`` ``--calls`` times in a row (the MCP round trip alone);
- managed: the same calls through chatkitd's ``ManagedMcpServer`` (its
  connection layer alone: allowed tools, timeout, failure handling);
- chatkitd: a deployed YAML workflow on the offline scripted model whose turn
  calls the MCP server's ``add`` ``--calls`` times, through
  ``AgentWorkflow.respond`` (the managed connection, the tool list cache,
  the SDK's conversion into function tools, tracing off);
- local: the same workflow with a local Python ``add`` tool instead, so
  the turn's own cost (one scripted model call and stream per tool call) is
  known.

Per MCP call in chatkitd = (chatkitd turn − local turn) / calls. Added by
chatkitd = that − the direct call measured in the same run; the median (and
interquartile range) over ``--runs``, in wall-clock time and in CPU time of
this process (the server's time is the same for both sides and is not in the
CPU figure, so that figure is what chatkitd's own code costs per call, and it
stays readable on a loaded machine). Target (issue 11): under 2 ms added per call.
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

from agents.mcp import MCPServer, MCPServerStreamableHttp
from agents.tracing import set_trace_processors
from chatkit.types import ThreadItemDoneEvent

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


async def direct(client: MCPServer, calls: int) -> Sample:
    start = _now()
    for _ in range(calls):
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error
    return _since(start, calls)


async def main(runs: int, calls: int) -> None:
    set_trace_processors([])  # nothing leaves the machine
    with McpServerProcess("streamable-http") as server, tempfile.TemporaryDirectory() as tmp:
        platform = Platform(Settings(data_dir=Path(tmp)))
        await platform.start()
        project_id = await ensure_project(platform.db, "default")
        via_mcp = await deploy(platform, project_id, "via-mcp", MCP_TOOL.format(url=server.url), calls)
        local = await deploy(platform, project_id, "local", LOCAL_TOOL, calls)
        async with MCPServerStreamableHttp(name="direct", params={"url": server.url}) as client:
            managed = mcp_server(McpToolConfig(server_label="crm", url=server.url, require_approval="never"))
            samples: dict[str, list[Sample]] = {"direct": [], "managed": [], "chatkitd": [], "local": []}
            for i in range(runs + 3):
                gc.collect()
                measured = (
                    await direct(client, calls),
                    await direct(managed, calls),
                    await turn(platform, via_mcp, calls),
                    await turn(platform, local, calls),
                )
                if i >= 3:  # warm-up
                    for name, value in zip(samples, measured, strict=True):
                        samples[name].append(value)
        await platform.stop()

    print(f"mcp bench: {runs} runs, {calls} calls to `add` per turn, streamable HTTP on loopback")
    print(f"{'':36}{'wall clock':>26}{'CPU of this process':>30}")
    for kind, index in (("wall", 0), ("cpu", 1)):
        pick = {name: [sample[index] for sample in values] for name, values in samples.items()}
        # Paired within each run (the machine's load moves between runs): the MCP call inside
        # a chatkitd turn (its turn less the local-tool turn), less the direct call before it.
        inside = [(m - lo) / calls for m, lo in zip(pick["chatkitd"], pick["local"], strict=True)]
        rows = {
            "direct MCP call (SDK client)": pick["direct"],
            "through the managed server": pick["managed"],
            "MCP call inside a chatkitd turn": inside,
            "added by the managed server": [
                m - d for m, d in zip(pick["managed"], pick["direct"], strict=True)
            ],
            "added by chatkitd per MCP call": [i - d for i, d in zip(inside, pick["direct"], strict=True)],
        }
        results[kind] = {label: _spread(values) for label, values in rows.items()}
    for label in results["wall"]:
        print(f"  {label:34}{results['wall'][label]:>26}{results['cpu'][label]:>30}")
    print("  target: under 2 ms added per MCP call")


results: dict[str, dict[str, str]] = {}


def _spread(values: list[float]) -> str:
    """Median and interquartile range, in ms."""
    q1, median, q3 = statistics.quantiles(values, n=4)
    return f"{median * 1e3:.3f} ms [{q1 * 1e3:.2f}, {q3 * 1e3:.2f}]"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--calls", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.calls))
