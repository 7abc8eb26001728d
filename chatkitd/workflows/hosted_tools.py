"""OpenAI-hosted tools in Python and exported workflows, mapped to chatkitd's own.

Agent Builder's exports give agents hosted tools (``FileSearchTool``,
``WebSearchTool``, ``HostedMCPTool``...) that only OpenAI's Responses API can
run. Before an exported (or Python) agent runs, ``adapt`` swaps each for the
chatkitd tool registered for its class, so it runs on any model provider:

- ``FileSearchTool`` -> chatkitd's vector stores (registered by ``knowledge``),
  always: the store ids now name chatkitd's stores;
- ``HostedMCPTool`` -> chatkitd's MCP client (``tools``), unless the provider is
  OpenAI's Responses API, which calls the server itself;
- ``WebSearchTool`` -> chatkitd's web search (``tools``), likewise.

The builders are looked up where their packages provide them (``PROVIDED_BY``:
a module's ``from_hosted(env, tool) -> agents.Tool``), or registered with
``register(ToolClass, build, on_openai=...)`` where ``build(tool, env)``
(``on_openai=False`` keeps the hosted tool when the provider is OpenAI's
Responses API). ``unsupported``
names, at deploy time, every tool that can run neither way, so the operator
hears it once, in one message, rather than the user mid-chat.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agents import (
    Agent,
    CodeInterpreterTool,
    ComputerTool,
    FileSearchTool,
    HostedMCPTool,
    ImageGenerationTool,
    LocalShellTool,
    WebSearchTool,
)

from chatkitd.models.providers import effective_provider

if TYPE_CHECKING:
    from chatkitd.workflows.environment import RunEnvironment

Builder = Callable[[Any, "RunEnvironment"], Any]


@dataclass(frozen=True)
class Mapping:
    build: Builder
    on_openai: bool  # also replace the hosted tool when the provider is OpenAI's Responses API
    server: bool = False  # the build is an MCP server for the agent's mcp_servers, not a tool


MAPPINGS: dict[type, Mapping] = {}

# Where the owning packages provide their builders, ``from_hosted(env, tool) -> agents.Tool``;
# looked up on first use, so a package that is not there yet simply maps nothing.
PROVIDED_BY: dict[type, tuple[str, bool]] = {
    FileSearchTool: ("chatkitd.knowledge.tool", True),
}


def _web_search(tool: Any, env: RunEnvironment) -> Any:
    from chatkitd.tools.web_search.tool import from_hosted, web_search_tool

    return web_search_tool(from_hosted(tool), env.settings, hosted_available=_on_openai(env))


def _mcp(tool: Any, env: RunEnvironment) -> Any:
    from chatkitd.tools.mcp.config import config_from_hosted
    from chatkitd.tools.mcp.server import mcp_server

    return mcp_server(config_from_hosted(tool.tool_config))


# Hosted tools with no chatkitd counterpart: they run only on OpenAI's Responses API.
OPENAI_ONLY: tuple[type, ...] = (
    CodeInterpreterTool,
    ImageGenerationTool,
    ComputerTool,
    LocalShellTool,
    FileSearchTool,
    WebSearchTool,
    HostedMCPTool,
)


def register(tool_class: type, build: Builder, *, on_openai: bool) -> None:
    """Map a hosted tool class to chatkitd's own (called by the package that provides it)."""
    MAPPINGS[tool_class] = Mapping(build, on_openai)


def _on_openai(env: RunEnvironment) -> bool:
    return effective_provider(env.provider, env.settings).type == "openai"


def _provided(tool_class: type) -> Mapping | None:
    if tool_class not in PROVIDED_BY:
        return None
    module_name, on_openai = PROVIDED_BY[tool_class]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    from_hosted = getattr(module, "from_hosted", None)
    if from_hosted is None:
        return None
    mapping = MAPPINGS[tool_class] = Mapping(lambda tool, env: from_hosted(env, tool), on_openai)
    return mapping


def _mapping(tool: Any, env: RunEnvironment) -> Mapping | None:
    mapping = MAPPINGS.get(type(tool)) or _provided(type(tool))
    if mapping is None or (_on_openai(env) and not mapping.on_openai):
        return None
    return mapping


def unsupported(agents: Iterable[Agent[Any]], env: RunEnvironment) -> list[str]:
    """``"agent 'X': ToolClass"`` for every tool that cannot run on this workflow's provider."""
    problems = []
    for agent in _with_handoffs(agents):
        for tool in agent.tools:
            if not isinstance(tool, OPENAI_ONLY):
                continue
            mapping = _mapping(tool, env)
            if mapping is None:
                if not (_on_openai(env) and type(tool) is not FileSearchTool):
                    problems.append(f"agent '{agent.name}': {type(tool).__name__}")
                continue
            try:
                mapping.build(tool, env)  # what it needs (a search back end, a URL) is checked now
            except ValueError as error:
                problems.append(f"agent '{agent.name}': {type(tool).__name__} ({error})")
    return problems


def adapt(agent: Agent[Any], env: RunEnvironment, cache: dict[int, Agent[Any]] | None = None) -> Agent[Any]:
    """The agent (and the agents it hands off to) with hosted tools swapped for chatkitd's."""
    cache = {} if cache is None else cache
    if id(agent) in cache:
        return cache[id(agent)]
    tools: list[Any] = []
    servers: list[Any] = []
    changed = False
    for tool in agent.tools:
        mapping = _mapping(tool, env)
        if mapping is not None:
            (servers if mapping.server else tools).append(mapping.build(tool, env))
            changed = True
        else:
            tools.append(tool)
    adapted = agent
    if changed:
        from chatkitd.tools.mcp.agent import McpAgent  # the MCP client, imported when a tool needs it

        adapted = McpAgent.copy_of(agent, tools=tools, mcp_servers=[*agent.mcp_servers, *servers])
    cache[id(agent)] = adapted
    handoffs = [adapt(h, env, cache) if isinstance(h, Agent) else h for h in agent.handoffs]
    if any(a is not b for a, b in zip(handoffs, agent.handoffs, strict=True)):
        adapted = cache[id(agent)] = adapted.clone(handoffs=handoffs)
    return adapted


def _with_handoffs(agents: Iterable[Agent[Any]]) -> list[Agent[Any]]:
    seen: dict[int, Agent[Any]] = {}
    stack = list(agents)
    while stack:
        agent = stack.pop()
        if id(agent) in seen:
            continue
        seen[id(agent)] = agent
        stack.extend(h for h in agent.handoffs if isinstance(h, Agent))
    return list(seen.values())


# chatkitd's own web search and MCP client (the ``tools`` package).
MAPPINGS[WebSearchTool] = Mapping(_web_search, on_openai=False)
MAPPINGS[HostedMCPTool] = Mapping(_mcp, on_openai=False, server=True)
