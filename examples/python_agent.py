"""A Python agent workflow for chatkitd: an order assistant.

Deploy it (a new version each time; the latest serves new sessions):

    chatkitd workflows deploy examples/python_agent.py

chatkitd stores this file's source with the version, so a later edit and
redeploy never changes what sessions on an older version run. The module
sets ``ID`` (and ``NAME``), optionally ``MODELS`` (the models a user may
pick with ``inference_options.model``, the default first), and defines
``build_agent(run)``, called once per turn with the session's state
variables and the chosen model.
"""

from __future__ import annotations

from agents import Agent, RunContextWrapper, function_tool

from chatkitd.workflows.agent import AgentRun
from chatkitd.workflows.context import WorkflowRunContext
from chatkitd.workflows.tools import close_thread, with_progress

ID = "python-agent"
NAME = "Order assistant"
MODELS = ["gpt-4.1-mini", "gpt-4.1"]

# Stand-in for your order system.
ORDERS = {"A100": "shipped on Monday", "A200": "being packed"}


@function_tool
def order_status(ctx: RunContextWrapper[WorkflowRunContext], order_id: str) -> str:
    """Look up the status of one of the customer's orders.

    Args:
        order_id: The order number, like A100.
    """
    customer = ctx.context.state_variables.get("customer_id", "unknown")
    status = ORDERS.get(order_id.upper())
    if status is None:
        return f"Customer {customer} has no order {order_id}."
    return f"Order {order_id.upper()} of customer {customer} is {status}."


def build_agent(run: AgentRun) -> Agent:
    name = run.state_variables.get("customer_name", "the customer")
    return Agent(
        name=NAME,
        instructions=(
            f"You help {name} with their orders. Look orders up with order_status; "
            "close the conversation with close_thread once the question is answered."
        ),
        # A model *name*: chatkitd resolves it with the server's provider settings.
        model=run.model or MODELS[0],
        tools=[with_progress(order_status), close_thread],
    )
