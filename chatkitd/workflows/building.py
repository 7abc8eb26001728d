"""How a workflow's agents are put together: their models, their server tools, the agent itself.

One rule for every kind of workflow that builds agents (a YAML agent, a
graph's agent nodes, an Agent Builder export):

- a model name (an agent's ``model``, the user's pick, an export's
  ``Agent(model="...")``) resolves with the workflow's provider, else the
  server's, through ``WorkflowModels``, and each model is built once per
  workflow version and process;
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
from agents.models.interface import Model, ModelProvider

from chatkitd.models.definition import ProviderDefinition
from chatkitd.models.providers import build_model
from chatkitd.tools.mcp import McpAgent
from chatkitd.workflows.definitions import ToolDefinition
from chatkitd.workflows.tools import build_server_tool

if TYPE_CHECKING:
    from chatkitd.workflows.agent import RunEnvironment


class WorkflowModels(ModelProvider):
    """The models of one workflow version, by name, each built once."""

    def __init__(self, env: RunEnvironment) -> None:
        self.env = env
        self._built: dict[tuple[str, str | None], Model] = {}

    def get_model(self, model_name: str | None) -> Model:
        return self.model(None, model_name)

    def model(self, provider: ProviderDefinition | None, name: str | None) -> Model:
        """``name`` on ``provider`` (a graph node's own), else on the workflow's provider."""
        provider = provider or self.env.provider
        key = (provider.model_dump_json() if provider else "", name)
        model = self._built.get(key)
        if model is None:
            model = self._built[key] = build_model(provider, name, self.env.settings)
        return model


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
