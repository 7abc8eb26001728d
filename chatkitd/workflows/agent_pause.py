"""Agent runs that wait for a person: tool calls needing approval, paused and resumed.

A tool that needs approval (``needs_approval`` on a function tool, an MCP
server's ``require_approval``, a hosted MCP approval request) interrupts the
Agents SDK run. The run's state is serialized with the SDK's ``RunState``,
each interruption becomes an approval request (tool, server, arguments), and
the approvals core stores them. On the answer, possibly in another process,
the state is restored against the same agent, the answers applied (a
rejection reaches the model as the tool's result), and the run goes on.
"""

from __future__ import annotations

import json
from typing import Any

from agents import Agent, RunContextWrapper, RunState
from agents.items import ToolApprovalItem

from chatkitd.approvals import ApprovalRequest, Resumption

KIND = "agent"
# What the model reads as the rejected tool's result.
REJECTED = "The user rejected this call to {tool}; it did not run. Do not retry it unless the user asks."


def _key(interruption: ToolApprovalItem) -> str:
    raw = interruption.raw_item
    value = raw.get("call_id") or raw.get("id") if isinstance(raw, dict) else None
    value = value or getattr(raw, "call_id", None) or getattr(raw, "id", None)
    return str(value or interruption.tool_name or "tool")


def _server(interruption: ToolApprovalItem) -> str | None:
    origin = interruption.tool_origin
    if origin is not None and origin.mcp_server_name:
        return origin.mcp_server_name
    raw = interruption.raw_item
    label = raw.get("server_label") if isinstance(raw, dict) else getattr(raw, "server_label", None)
    return label if isinstance(label, str) else None


def requests_for(interruptions: list[Any]) -> list[ApprovalRequest]:
    requests = []
    for interruption in interruptions:
        if not isinstance(interruption, ToolApprovalItem):
            continue
        tool = interruption.tool_name or interruption.name or "a tool"
        requests.append(
            ApprovalRequest(
                key=_key(interruption),
                title=f"Run {tool}?",
                tool=tool,
                server=_server(interruption),
                arguments=interruption.arguments,
            )
        )
    return requests


def saved_state(state: RunState[Any, Any], model: str | None) -> str:
    """The run to resume, and the model its turn used. The run context is rebuilt, not saved:
    it holds the thread and the store, and the session's state travels with the session."""
    return json.dumps({"model": model, "run_state": state.to_json(context_serializer=lambda _: {})})


def saved_model(state: str) -> str | None:
    model = json.loads(state).get("model")
    return model if isinstance(model, str) else None


async def restored(
    agent: Agent[Any], state: str, run_context: Any, resumption: Resumption
) -> RunState[Any, Any]:
    """The paused run, on the rebuilt agent and context, with every answer applied."""
    run_state = await RunState.from_json(
        agent, json.loads(state)["run_state"], context_override=RunContextWrapper(context=run_context)
    )
    for interruption in run_state.get_interruptions():
        answer = resumption.answer_for(_key(interruption))
        if answer is None:
            continue  # asked of nobody: the run will pause on it again
        if answer.approved:
            run_state.approve(interruption)
        else:
            tool = interruption.tool_name or interruption.name or "the tool"
            message = REJECTED.format(tool=tool)
            if answer.reason:
                message += f" The user said: {answer.reason}"
            run_state.reject(interruption, rejection_message=message)
    return run_state
