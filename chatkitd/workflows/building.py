"""How a workflow's agents are put together: their server tools and the agent itself.

One rule for every kind of workflow that builds agents (a YAML agent, a
graph's agent nodes; models resolve through the version's
``RunEnvironment.model_provider``, an export's too):

- server tools are built once per version (``ServerTools``): function tools,
  and MCP servers whose tools the agent lists each run;
- the agent is an ``McpAgent`` (its MCP tools converted once per run), and
  when it has two MCP servers, which may name a tool alike, each MCP tool
  carries its server's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agents import Agent, Tool
from agents.mcp import MCPServer

from chatkitd.tools.mcp import McpAgent
from chatkitd.workflows.definitions import ToolDefinition
from chatkitd.workflows.tools import build_server_tool

if TYPE_CHECKING:
    from chatkitd.workflows.environment import RunEnvironment


@dataclass(frozen=True)
class ServerTools:
    """An agent's server tools, built once: function tools, and MCP servers."""

    tools: list[Tool]
    servers: list[MCPServer]

    @classmethod
    def build(
        cls, definitions: Iterable[ToolDefinition], env: RunEnvironment, extra: Sequence[Tool] = ()
    ) -> ServerTools:
        built = [build_server_tool(definition, env) for definition in definitions]
        tools = [t for t in built if not isinstance(t, MCPServer)] + list(extra)
        return cls(tools, [t for t in built if isinstance(t, MCPServer)])

    def names(self) -> list[str]:
        """The function tools' names (an MCP server's are known once it is connected)."""
        return [name for tool in self.tools if (name := getattr(tool, "name", None))]


def workflow_agent(server_tools: ServerTools, client_tools: Sequence[Tool] = (), **fields: Any) -> Agent[Any]:
    """An agent with these tools; ``fields`` are the rest of ``Agent``'s (name, instructions, model...)."""
    servers = server_tools.servers
    return McpAgent(
        tools=[*server_tools.tools, *client_tools],
        mcp_servers=list(servers),
        mcp_config={"include_server_in_tool_names": len(servers) > 1},
        **fields,
    )
