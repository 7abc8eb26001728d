"""``Runner.run`` inside an exported workflow: streamed to the chat, with the thread's history.

Agent Builder's export calls ``Runner.run(agent, input=conversation_history,
run_config=...)`` and reads the result. While an ``ExportWorkflow`` turn runs
(``CURRENT`` is set), each such call is served by the turn instead
(``ExportTurn.run_agent``), which

- puts the thread's earlier history before the export's own input (the
  export starts every run from the current message alone);
- swaps hosted tools for chatkitd's (``hosted_tools.adapt``) and resolves
  model names with the workflow's provider and chatkitd's tracing;
- runs the agent streamed, sending a text agent's output to the chat as the
  SDK produces it (an agent with a structured ``output_type``, a classifier,
  stays internal), and returns the finished result to the export.

Outside such a turn the SDK's runner runs the call unchanged. The hook into
``Runner.run`` is the SDK's experimental default-runner API, wrapped in
``chatkitd.compat.agents.install_runner_hook``.
"""

from __future__ import annotations

import contextvars
import dataclasses
from typing import Any, Protocol

from agents import RunConfig

from chatkitd.compat.agents import NOT_HOOKED, install_runner_hook


class ExportTurn(Protocol):
    async def run_agent(self, runner: Any, agent: Any, input: Any, options: dict[str, Any]) -> Any: ...


CURRENT: contextvars.ContextVar[ExportTurn | None] = contextvars.ContextVar("chatkitd_export", default=None)


async def serve(runner: Any, agent: Any, input: Any, options: dict[str, Any]) -> Any:
    turn = CURRENT.get()
    if turn is None:
        return NOT_HOOKED
    return await turn.run_agent(runner, agent, input, options)


def run_config(given: RunConfig | dict[str, Any] | None, **overrides: Any) -> RunConfig:
    """The export's RunConfig (its metadata, settings) with chatkitd's provider and tracing."""
    if isinstance(given, dict):
        given = RunConfig(**given)
    return dataclasses.replace(given or RunConfig(), **overrides)


def install() -> None:
    install_runner_hook(serve)
