"""``Runner.run`` inside an exported workflow: streamed to the chat, with the thread's history.

Agent Builder's export calls ``Runner.run(agent, input=conversation_history,
run_config=...)`` and reads the result. While an ``ExportWorkflow`` turn runs,
each such call goes through ``ChatkitdRunner`` instead, which

- puts the thread's earlier history before the export's own input (the
  export starts every run from the current message alone);
- swaps hosted tools for chatkitd's (``hosted_tools.adapt``) and resolves
  model names with the workflow's provider and chatkitd's tracing;
- runs the agent streamed, sending a text agent's output to the chat as the
  SDK produces it (an agent with a structured ``output_type``, a classifier,
  stays internal), and returns the finished result to the export.

Outside such a turn it is the SDK's runner unchanged.

This module is the one reach into the Agents SDK's experimental runner API
(``agents.run.AgentRunner`` and ``set_default_agent_runner``, marked "not
part of the public API"); ``tests/test_export_workflows.py`` guards it. It
moves to chatkitd's compatibility module once that exists.
"""

from __future__ import annotations

import contextvars
import dataclasses
import threading
from typing import Any, Protocol

from agents import Agent, RunConfig
from agents.run import AgentRunner, set_default_agent_runner


class ExportTurn(Protocol):
    async def run_agent(
        self, runner: AgentRunner, agent: Agent[Any], input: Any, options: dict[str, Any]
    ) -> Any: ...


CURRENT: contextvars.ContextVar[ExportTurn | None] = contextvars.ContextVar("chatkitd_export", default=None)


class ChatkitdRunner(AgentRunner):
    async def run(self, starting_agent: Agent[Any], input: Any, **kwargs: Any) -> Any:
        turn = CURRENT.get()
        if turn is None:
            return await super().run(starting_agent, input, **kwargs)
        return await turn.run_agent(self, starting_agent, input, kwargs)


def run_config(given: RunConfig | dict[str, Any] | None, **overrides: Any) -> RunConfig:
    """The export's RunConfig (its metadata, settings) with chatkitd's provider and tracing."""
    if isinstance(given, dict):
        given = RunConfig(**given)
    return dataclasses.replace(given or RunConfig(), **overrides)


_installed = False
_lock = threading.Lock()


def install() -> None:
    global _installed
    with _lock:
        if not _installed:
            set_default_agent_runner(ChatkitdRunner())
            _installed = True
