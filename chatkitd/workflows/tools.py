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
from typing import Any

from agents import FunctionTool, RunContextWrapper, function_tool
from agents.tool_context import ToolContext
from chatkit.agents import ClientToolCall
from chatkit.types import ClosedStatus, CustomTask, LockedStatus

from chatkitd.workflows.context import WorkflowRunContext
from chatkitd.workflows.definitions import TOOL_KINDS, ClientToolDefinition, ToolDefinition


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


def builtin_tool(name: str, env: Any) -> FunctionTool:
    try:
        return BUILTIN_TOOLS[name]
    except KeyError:
        raise ValueError(f"Unknown built-in tool '{name}'; choose from {sorted(BUILTIN_TOOLS)}.") from None


def python_tool(path: str, env: Any) -> FunctionTool:
    module_name, _, attr = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target if isinstance(target, FunctionTool) else function_tool(target)


def resolve_server_tool(definition: ToolDefinition, env: Any = None) -> FunctionTool:
    """The tool a definition names, built by its kind's row in ``TOOL_KINDS``, showing its progress."""
    module_name, _, attr = TOOL_KINDS[definition.kind].build.partition(":")
    build = getattr(importlib.import_module(module_name), attr)
    return with_progress(build(definition.options, env))


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
