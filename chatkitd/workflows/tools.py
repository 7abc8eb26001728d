"""Server tools and client tools for agent workflows.

Built-in server tools are small and safe: they touch only the current
thread and the session's state. Every server tool shows its progress to
the user as a task. Client tools run in the user's browser: calling one
ends the run with a ``client_tool_call`` item, and the run resumes when
the client posts the tool's output.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agents import FunctionTool, RunContextWrapper, Tool, function_tool
from agents.mcp import MCPServer
from agents.tool_context import ToolContext
from chatkit.agents import ClientToolCall
from chatkit.types import ClosedStatus, CustomTask, LockedStatus

from chatkitd.knowledge.tool import file_search_tool
from chatkitd.models.providers import effective_provider
from chatkitd.tools.mcp import McpToolConfig, mcp_server
from chatkitd.tools.web_search import WebSearchConfig, web_search_tool
from chatkitd.workflows.context import WorkflowRunContext
from chatkitd.workflows.definitions import ClientToolDefinition, FileSearchConfig, ToolDefinition

if TYPE_CHECKING:
    from chatkitd.workflows.environment import RunEnvironment


@function_tool
async def close_thread(ctx: RunContextWrapper[WorkflowRunContext], reason: str) -> str:
    """Close this conversation for good, telling the user why. Use when the matter is resolved.

    Args:
        reason: A short reason shown to the user.
    """
    ctx.context.thread.status = ClosedStatus(reason=reason)
    return "The conversation is now closed."


@function_tool
async def lock_thread(ctx: RunContextWrapper[WorkflowRunContext], reason: str) -> str:
    """Stop accepting new messages in this conversation for now, telling the user why.

    Args:
        reason: A short reason shown to the user.
    """
    ctx.context.thread.status = LockedStatus(reason=reason)
    return "The conversation is now locked."


@function_tool
def current_time() -> str:
    """The current date and time in UTC, ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@function_tool
def get_state_variable(ctx: RunContextWrapper[WorkflowRunContext], name: str) -> str:
    """Read one of the session's state variables (facts the integrator passed about the user).

    Args:
        name: The variable's name.
    """
    value = ctx.context.state_variables.get(name)
    return "unset" if value is None else json.dumps(value)


BUILTIN_TOOLS: dict[str, FunctionTool] = {
    tool.name: tool for tool in (close_thread, lock_thread, current_time, get_state_variable)
}


def with_progress(tool: FunctionTool) -> FunctionTool:
    """The same tool, showing a task that spins while it runs and ticks when it is done."""
    invoke = tool.on_invoke_tool

    async def on_invoke(ctx: ToolContext[Any], arguments: str) -> Any:
        context = ctx.context
        if not isinstance(context, WorkflowRunContext):
            return await invoke(ctx, arguments)
        task = CustomTask(title=tool.name.replace("_", " ").capitalize(), status_indicator="loading")
        await context.add_workflow_task(task)
        assert context.workflow_item is not None
        index = context.workflow_item.workflow.tasks.index(task)
        try:
            return await invoke(ctx, arguments)
        finally:
            done = task.model_copy(update={"status_indicator": "complete"})
            await context.update_workflow_task(done, index)

    return dataclasses.replace(tool, on_invoke_tool=on_invoke)


def _builtin(name: str, definition: ToolDefinition, env: RunEnvironment) -> Tool:
    try:
        return BUILTIN_TOOLS[name]
    except KeyError:
        raise ValueError(f"Unknown built-in tool '{name}'; choose from {sorted(BUILTIN_TOOLS)}.") from None


def _python(path: str, definition: ToolDefinition, env: RunEnvironment) -> Tool:
    module_name, _, attr = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target if isinstance(target, FunctionTool) else function_tool(target)


def _mcp(config: McpToolConfig, definition: ToolDefinition, env: RunEnvironment) -> MCPServer:
    if definition.require_approval != "never":
        raise ValueError(
            f"MCP server '{config.server_label}': its approval policy goes inside it, "
            "as `mcp: {require_approval: ...}`"
        )
    return mcp_server(config)


def _web_search(config: WebSearchConfig, definition: ToolDefinition, env: RunEnvironment) -> Tool:
    provider = effective_provider(env.provider, env.settings)
    return web_search_tool(config, env.settings, hosted_available=provider.type == "openai")


def _file_search(config: FileSearchConfig, definition: ToolDefinition, env: RunEnvironment) -> Tool:
    return file_search_tool(
        env,
        config.vector_store_ids,
        max_num_results=config.max_num_results,
        search_thread_uploads=env.thread_uploads.index,
    )


def thread_uploads_search(max_num_results: int | None, env: RunEnvironment) -> FunctionTool:
    """``file_search`` over the thread's own uploads alone, for an agent that indexes them and
    lists no ``file_search`` of its own."""
    return with_progress(
        file_search_tool(env, [], max_num_results=max_num_results, search_thread_uploads=True)
    )


ToolBuilder = Callable[[Any, ToolDefinition, "RunEnvironment"], "Tool | MCPServer"]

# One builder per YAML tool kind (``chatkitd.workflows.definitions.TOOL_KINDS``). A builder
# gets the kind's validated value; it returns a tool, or an MCP server for ``mcp_servers``.
TOOL_BUILDERS: dict[str, ToolBuilder] = {
    "builtin": _builtin,
    "python": _python,
    "mcp": _mcp,
    "web_search": _web_search,
    "file_search": _file_search,
}


def build_server_tool(definition: ToolDefinition, env: RunEnvironment) -> Tool | MCPServer:
    built = TOOL_BUILDERS[definition.kind](definition.config, definition, env)
    if isinstance(built, FunctionTool):
        if definition.require_approval == "always":
            built = dataclasses.replace(built, needs_approval=True)
        built = with_progress(built)
    return built


def client_tool(definition: ClientToolDefinition) -> FunctionTool:
    """A tool the model can call but the browser runs: it records the call and ends the run."""

    async def on_invoke(ctx: ToolContext[Any], arguments: str) -> str:
        parsed = json.loads(arguments or "{}")
        ctx.context.client_tool_call = ClientToolCall(name=definition.name, arguments=parsed)
        return "Sent to the client."

    return FunctionTool(
        name=definition.name,
        description=definition.description,
        params_json_schema=definition.parameters,
        on_invoke_tool=on_invoke,
        strict_json_schema=False,
    )
