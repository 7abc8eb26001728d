"""Turning a stored version into a runnable ``Workflow``.

A YAML agent is built once per model it runs on; its instructions render
on every turn from the session's state variables. Python versions run the
source stored with the version, in a module of their own, so two versions
of one workflow (or two projects' workflows of one id) run side by side.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import sys
import types
from typing import Any

from agents import Agent, ModelSettings, RunContextWrapper, StopAtTools
from pydantic import TypeAdapter, ValidationError

from chatkitd import templating
from chatkitd.errors import InvalidRequest
from chatkitd.models.definition import ProviderDefinition
from chatkitd.workflows import hosted_tools
from chatkitd.workflows.agent import AgentRun, AgentWorkflow
from chatkitd.workflows.base import Workflow
from chatkitd.workflows.building import ServerTools, workflow_agent
from chatkitd.workflows.definitions import AgentAction, AgentDefinition, ThreadUploadsConfig, parse_yaml
from chatkitd.workflows.environment import RunEnvironment
from chatkitd.workflows.tools import client_tool, thread_uploads_search

_module_numbers = itertools.count(1)


def _import(path: str) -> Any:
    module_name, _, attr = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target


def _from_target(target: Any, workflow_id: str, version: str, env: RunEnvironment) -> Workflow:
    """A Workflow subclass is used as is (full control); anything else is an agent factory."""
    if isinstance(target, type) and issubclass(target, Workflow):
        workflow = target()
        workflow.id, workflow.version = workflow_id, version
        return workflow
    if isinstance(target, Agent):
        agent = target
        return AgentWorkflow(workflow_id, version, _with_own_tools(lambda run: agent, env), env)
    if callable(target):
        return AgentWorkflow(workflow_id, version, _with_own_tools(target, env), env)
    raise ValueError(f"Workflow '{workflow_id}' names neither an agent factory nor a Workflow class.")


def _with_own_tools(factory: Any, env: RunEnvironment) -> Any:
    """The factory, its agents' hosted tools (``FileSearchTool``, ...) swapped for chatkitd's
    (``hosted_tools.adapt``), so a Python agent runs them on any model provider."""

    async def build(run: AgentRun) -> Agent[Any]:
        agent = factory(run)
        if inspect.isawaitable(agent):
            agent = await agent
        # No cache across runs: a factory may build a new agent each run.
        return hosted_tools.adapt(agent, env)

    return build


def yaml_agent_factory(definition: AgentDefinition, env: RunEnvironment):  # noqa: ANN201
    """The factory of a declarative agent: one Agent per model, shared by every turn.

    Instructions render per run from the run context's state variables, so
    one agent serves every session.
    """
    extra = []
    if definition.thread_uploads.index and not any(t.kind == "file_search" for t in definition.tools):
        # The thread's own uploads are searched: by the agent's file_search, or by one made for them.
        extra.append(thread_uploads_search(definition.thread_uploads.max_num_results, env))
    server_tools = ServerTools.build(definition.tools, env, extra)
    client_tools = [client_tool(t) for t in definition.client_tools]
    settings = ModelSettings(**definition.model_settings)
    agents: dict[str | None, Agent[Any]] = {}

    def instructions(ctx: RunContextWrapper[Any], agent: Agent[Any]) -> str:
        return templating.render(definition.instructions, getattr(ctx.context, "state_variables", None))

    def build(run: AgentRun) -> Agent[Any]:
        agent = agents.get(run.model)
        if agent is None:
            agent = agents[run.model] = workflow_agent(
                server_tools,
                client_tools,
                name=definition.name or definition.id,
                instructions=instructions,
                model=env.model_provider.get_model(run.model),
                model_settings=settings,
                # A client tool's call ends the run; the client's output resumes it.
                tool_use_behavior=StopAtTools(stop_at_tool_names=[t.name for t in client_tools])
                if client_tools
                else "run_llm_again",
            )
        return agent

    # What a composer may offer as tool_choice (AgentWorkflow.composer_choices); an MCP
    # server's tools are listed only once it is connected, so they are not among them.
    build.tool_names = server_tools.names() + [t.name for t in client_tools]  # type: ignore[attr-defined]
    # What an action may run: the server tools, and any tool of an MCP server (known once connected).
    build.server_tool_names = None if server_tools.servers else set(server_tools.names())  # type: ignore[attr-defined]
    return build


def _check_action_tools(agent: AgentDefinition, server_tools: set[str] | None) -> None:
    """An action names one of the agent's server tools (a client tool runs in the browser)."""
    for action_type, action in agent.actions.items():
        if action.tool is not None and server_tools is not None and action.tool not in server_tools:
            known = ", ".join(sorted(server_tools)) or "none"
            raise ValueError(
                f"Action '{action_type}' runs '{action.tool}', which is not one of the agent's "
                f"server tools ({known})."
            )


def load_version(
    workflow_id: str,
    version: str,
    kind: str,
    definition: str,
    source_path: str | None,
    env: RunEnvironment,
) -> Workflow:
    if kind == "yaml":
        agent = parse_yaml(definition)
        if not isinstance(agent, AgentDefinition):
            from chatkitd.workflows.graph.runtime import GraphWorkflow
            from chatkitd.workflows.graph.spec import parse_graph

            env.provider = agent.provider  # the graph's; a node may name its own
            return GraphWorkflow(workflow_id, version, parse_graph(agent), env)
        env.provider, env.models, env.max_turns = agent.provider, agent.models, agent.max_turns
        env.actions = dict(agent.actions)
        env.thread_uploads = agent.thread_uploads
        if agent.factory:
            return _from_target(_import(agent.factory), workflow_id, version, env)
        factory = yaml_agent_factory(agent, env)
        _check_action_tools(agent, factory.server_tool_names)
        return AgentWorkflow(workflow_id, version, factory, env)
    if kind == "export":
        from chatkitd.workflows.export import load_export

        return load_export(workflow_id, version, definition, source_path, env)
    safe_id = workflow_id.replace("-", "_").replace(".", "_")
    module = types.ModuleType(f"chatkitd_workflow_{safe_id}_v{version}_{next(_module_numbers)}")
    module.__file__ = source_path or f"<workflow {workflow_id} v{version}>"
    # Registered so that dataclasses and pydantic models defined in it resolve their module.
    sys.modules[module.__name__] = module
    exec(compile(definition, module.__file__, "exec"), module.__dict__)
    env.provider = _module_setting(module, "PROVIDER", ProviderDefinition | None, None)
    env.models = _module_setting(module, "MODELS", list[str], [])
    env.actions = _module_setting(module, "ACTIONS", dict[str, AgentAction], {})
    env.thread_uploads = _module_setting(module, "THREAD_UPLOADS", ThreadUploadsConfig, {})
    target = getattr(module, "WORKFLOW", None) or getattr(module, "build_agent", None)
    if target is None:
        raise ValueError(f"Python workflow '{workflow_id}' defines neither build_agent nor WORKFLOW.")
    return _from_target(target, workflow_id, version, env)


def _module_setting(module: types.ModuleType, name: str, shape: Any, default: Any) -> Any:
    """A Python workflow's module-level setting (``PROVIDER``, ``MODELS``, ...), checked as YAML's
    keys are, so a wrong one fails the deploy naming itself."""
    try:
        return TypeAdapter(shape).validate_python(getattr(module, name, default))
    except ValidationError as error:
        first = error.errors()[0]
        inner = [str(p) for p in first["loc"] if not str(p).startswith(("function-", "nullable"))]
        where = ".".join([name, *inner])
        raise InvalidRequest(
            f"Invalid Python workflow setting: {where}: {first['msg']}", param=name
        ) from None
