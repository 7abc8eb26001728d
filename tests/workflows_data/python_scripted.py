"""A Python workflow on the offline scripted model (a factory returning an agents.Agent)."""

from typing import Any

from agents import Agent, RunContextWrapper, function_tool

from chatkitd.models.scripted import ScriptedModel
from chatkitd.workflows.tools import with_progress

ID = "python-scripted"
NAME = "Python scripted"
LABEL = "v1"


@function_tool
def whoami(ctx: RunContextWrapper) -> str:
    """The customer's name, from the session's state variables."""
    return str(ctx.context.state_variables.get("customer_name"))


SCRIPT: list[dict[str, Any]] = [
    {"when": "who", "steps": [{"call": {"name": "whoami"}}, {"text": "You are {{ tool_output }}."}]},
    {"steps": [{"text": LABEL + ": {{ instructions }}"}]},
]


def build_agent(run):
    return Agent(
        name=NAME,
        instructions=f"Help {run.state_variables.get('customer_name')}.",
        model=ScriptedModel(SCRIPT),
        tools=[with_progress(whoami)],
    )
