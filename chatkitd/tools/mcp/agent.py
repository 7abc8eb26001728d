"""An Agents SDK ``Agent`` that turns its MCP servers' tools into function tools once per run.

The SDK lists every MCP server's tools and converts each into a function tool
before every model call of a run (``Agent.get_all_tools``): a copy of its
schema, its annotations and metadata, about 0.1 ms of CPU per tool each time.
A turn that calls a tool ten times on a server of eight tools made eleven
model calls and converted the same list eleven times: most of what chatkitd
added per MCP call (``bench/mcp_tools.py``). ``McpAgent`` converts on the
run's first model call, exactly as the SDK does (listing span included), and
hands the same tools to the run's later model calls. The next run (the next
turn, or a run resumed after an approval) lists again, so the server's tool
list, cached by ``ManagedMcpServer`` with a bound on its age, still reaches
every turn; within one run the tools do not change, and a server that could
not list its tools is not waited for again before every model call.
"""

from __future__ import annotations

import dataclasses
import weakref
from typing import Any

from agents import Agent, RunContextWrapper, Tool

# Per run (its context wrapper, alive while the run is), per agent of the run: its MCP tools.
_CONVERTED: weakref.WeakKeyDictionary[RunContextWrapper[Any], list[tuple[Agent[Any], list[Tool]]]] = (
    weakref.WeakKeyDictionary()
)


class McpAgent(Agent[Any]):
    """``Agent`` whose MCP tools are listed and converted once per run."""

    @classmethod
    def copy_of(cls, agent: Agent[Any], **changes: Any) -> Agent[Any]:
        """``agent.clone(**changes)``, as an ``McpAgent`` when ``agent`` is a plain ``Agent`` (a
        workflow's own subclass keeps its class, and the SDK's conversion before every model call)."""
        if type(agent) is not Agent:
            return agent.clone(**changes)
        values = {field.name: getattr(agent, field.name) for field in dataclasses.fields(agent) if field.init}
        return cls(**{**values, **changes})

    async def get_mcp_tools(self, run_context: RunContextWrapper[Any]) -> list[Tool]:
        if not self.mcp_servers:
            return []
        converted = _CONVERTED.setdefault(run_context, [])
        for agent, tools in converted:
            if agent is self:
                return list(tools)
        tools = await super().get_mcp_tools(run_context)
        converted.append((self, tools))
        return list(tools)
