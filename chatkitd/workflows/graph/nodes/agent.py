"""The agent node: one Agents SDK run, its instructions and prompt templated from the graph's values.

Its output is text, JSON matching a schema, or a widget filled from JSON;
it is shown in the chat (streamed as the model writes) or kept internal
(a classifier's JSON); it sees the thread's history and what earlier agents
of this turn said, or only the user's message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import jsonschema
from agents import Agent, ModelSettings, Runner
from agents.agent_output import AgentOutputSchemaBase
from agents.exceptions import ModelBehaviorError
from agents.items import ToolApprovalItem
from chatkit.types import ThreadItemDoneEvent, ThreadStreamEvent, WidgetItem
from chatkit.widgets import WidgetRoot
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from chatkitd.approvals import Resumption
from chatkitd.models.providers import ProviderDefinition
from chatkitd.tools.mcp import McpToolConfig
from chatkitd.workflows import agent_pause
from chatkitd.workflows.building import ServerTools, workflow_agent
from chatkitd.workflows.context import WorkflowRunContext
from chatkitd.workflows.definitions import ToolDefinition
from chatkitd.workflows.graph.cel import Compiler, Scope, Template
from chatkitd.workflows.graph.nodes.base import Linear, Step
from chatkitd.workflows.graph.run import GraphRun
from chatkitd.workflows.streaming import run_events

_widgets: TypeAdapter[WidgetRoot] = TypeAdapter(WidgetRoot)


class JsonOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["json"]
    schema_: dict[str, Any] = Field(alias="schema")


class WidgetOutput(BaseModel):
    """A widget (ChatKit's JSON tree) whose strings may hold ``{{ output.field }}`` placeholders."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["widget"]
    schema_: dict[str, Any] = Field(alias="schema")
    widget: dict[str, Any]


class SchemaOutput(AgentOutputSchemaBase):
    """Structured output from a JSON schema written in YAML, validated with ``jsonschema``."""

    def __init__(self, name: str, schema: dict[str, Any]) -> None:
        self._name = name
        self._schema = schema
        self._validator = jsonschema.Draft202012Validator(schema)

    def is_plain_text(self) -> bool:
        return False

    def name(self) -> str:
        return self._name

    def json_schema(self) -> dict[str, Any]:
        return self._schema

    def is_strict_json_schema(self) -> bool:
        return False

    def validate_json(self, json_str: str) -> Any:
        try:
            value = json.loads(json_str)
        except json.JSONDecodeError as error:
            raise ModelBehaviorError(f"{self._name}: the model's output is not JSON: {error}") from None
        problem = jsonschema.exceptions.best_match(self._validator.iter_errors(value))
        if problem is not None:
            raise ModelBehaviorError(f"{self._name}: the model's output does not match the schema: {problem}")
        return value


class AgentNode(Linear):
    kind = "agent"
    quiet = False
    type: Literal["agent"]
    name: str | None = None
    instructions: str = ""
    prompt: str | None = None  # a user message added after the history, templated
    model: str | None = None
    allowed_models: list[str] = Field(default_factory=list)
    provider: ProviderDefinition | None = None
    model_settings: dict[str, Any] = Field(default_factory=dict)
    tools: list[ToolDefinition] = Field(default_factory=list)
    output: Literal["text"] | JsonOutput | WidgetOutput = "text"
    display: Literal["chat", "internal"] | None = None  # default: chat, but internal for JSON
    history: bool = True
    max_turns: int = Field(default=10, ge=1, le=100)

    @property
    def shown(self) -> bool:
        if self.display is not None:
            return self.display == "chat"
        return not isinstance(self.output, JsonOutput)

    def talks(self) -> bool:
        return self.shown or any(_may_ask(tool) for tool in self.tools)

    def compile(self, compiler: Compiler) -> Any:
        widget = None
        if isinstance(self.output, WidgetOutput):
            widget_compiler = Compiler(
                Scope(compiler.scope.state_types, compiler.scope.earlier_nodes, frozenset({"output"}))
            )
            widget = _compile_tree(self.output.widget, widget_compiler)
        schema: AgentOutputSchemaBase | None = None
        if not isinstance(self.output, str):
            jsonschema.Draft202012Validator.check_schema(self.output.schema_)
            schema = SchemaOutput(f"{self.id}_output", self.output.schema_)
        return _Compiled(
            instructions=compiler.template(self.instructions),
            prompt=compiler.template(self.prompt) if self.prompt else None,
            tools=None,  # built on first run, with the workflow's environment
            schema=schema,
            widget=widget,
        )

    async def run(self, compiled: Any, run: GraphRun) -> AsyncIterator[ThreadStreamEvent]:
        parts = cast(_Compiled, compiled)
        items = list(run.conversation) if self.history else [_user(run.input_as_text)]
        if parts.prompt is not None:
            items.append(_user(parts.prompt.render(run.activation())))
        model_name = self.model_for(run.model, run.workflow.models)
        agent = self._agent(parts, run, model_name)
        context = _run_context(run)
        async for event in self._stream(parts, run, agent, cast(list[Any], items), context, model_name):
            yield event

    async def resume(
        self, compiled: Any, run: GraphRun, kept: dict[str, Any], resumption: Resumption
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Go on with the agent's run that paused on a tool needing approval, the answers applied."""
        parts = cast(_Compiled, compiled)
        saved = kept["run"]
        model_name = agent_pause.saved_model(saved)
        agent = self._agent(parts, run, model_name)
        context = _run_context(run)
        state = await agent_pause.restored(agent, saved, context, resumption)
        async for event in self._stream(parts, run, agent, state, context, model_name):
            yield event

    def _agent(self, parts: _Compiled, run: GraphRun, model_name: str | None) -> Agent[Any]:
        if parts.tools is None:
            parts.tools = ServerTools.build(self.tools, run.workflow.env)
        return workflow_agent(
            parts.tools,
            name=self.name or self.label or self.id,
            instructions=parts.instructions.render(run.activation()),
            model=run.workflow.provider.model(self.provider, model_name),
            model_settings=ModelSettings(**self.model_settings),
            output_type=parts.schema,
        )

    async def _stream(
        self,
        parts: _Compiled,
        run: GraphRun,
        agent: Agent[Any],
        agent_input: Any,
        context: WorkflowRunContext,
        model_name: str | None,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """One streamed run (new, or resumed from its state); ends by setting ``run.step``: the
        agent's output, or the questions its tools that need approval ask."""
        result = Runner.run_streamed(
            agent,
            agent_input,
            context=context,
            run_config=run.trace.run_config(model_provider=run.workflow.provider),
            max_turns=self.max_turns,
        )
        async with aclosing(run_events(context, result, self.shown and parts.widget is None)) as events:
            async for event in events:
                if isinstance(event, ThreadItemDoneEvent):
                    run.said_anything = True
                    run.item_ids.append(event.item.id)
                yield event
        questions = agent_pause.requests_for(result.interruptions)
        if questions:
            saved = agent_pause.saved_state(result.to_state(), model_name)
            detail = {"model": model_name, "waiting_for": [q.tool for q in questions]}
            run.step = Step(run.last, None, detail, keep_input=True, ask=questions, kept={"run": saved})
            return
        # What the agent said and did, for later agents of the turn (a resumed run's items
        # include the approval requests it stopped on, which are not model input).
        run.conversation.extend(
            item.to_input_item() for item in result.new_items if not isinstance(item, ToolApprovalItem)
        )
        final = result.final_output
        if parts.schema is None:
            output: dict[str, Any] = {"output_text": str(final) if final is not None else ""}
        else:
            output = {"output_text": json.dumps(final, ensure_ascii=False), "output_parsed": final}
        if parts.widget is not None and self.shown:
            tree = _render_tree(parts.widget, run.activation(output=final))
            item = WidgetItem(
                id=run.new_item_id(),
                thread_id=run.thread.id,
                created_at=datetime.now(),
                widget=_widgets.validate_python(tree),
                copy_text=output["output_text"],
            )
            run.said_anything = True
            run.item_ids.append(item.id)
            yield ThreadItemDoneEvent(item=item)
        run.step = Step(output, self.next, {"model": model_name, "shown": self.shown})

    def model_for(self, picked: str | None, workflow_models: list[str]) -> str | None:
        """The user's pick when this node allows it, else the node's model, else the workflow's."""
        allowed = ([self.model] if self.model else []) + self.allowed_models
        if picked is not None and (picked in allowed or (not allowed and picked in workflow_models)):
            return picked
        return self.model or (workflow_models[0] if workflow_models else None)


@dataclass
class _Compiled:
    instructions: Template
    prompt: Template | None
    tools: ServerTools | None
    schema: AgentOutputSchemaBase | None
    widget: Any


def _run_context(run: GraphRun) -> WorkflowRunContext:
    return WorkflowRunContext(
        thread=run.thread,
        store=run.store,
        request_context=run.context,
        workflow_id=run.workflow.id,
        workflow_version=run.workflow.version,
        state_variables=run.state,
    )


def _may_ask(tool: ToolDefinition) -> bool:
    """Whether a call of the tool may wait for a person's approval (an MCP server: unless it never asks)."""
    if tool.require_approval == "always":
        return True
    return isinstance(tool.config, McpToolConfig) and tool.config.require_approval != "never"


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def _compile_tree(tree: Any, compiler: Compiler) -> Any:
    if isinstance(tree, str):
        return compiler.template(tree) if "{{" in tree else tree
    if isinstance(tree, list):
        return [_compile_tree(v, compiler) for v in tree]
    if isinstance(tree, dict):
        return {k: _compile_tree(v, compiler) for k, v in tree.items()}
    return tree


def _render_tree(tree: Any, data: dict[str, Any]) -> Any:
    if isinstance(tree, Template):
        return tree.render(data)
    if isinstance(tree, list):
        return [_render_tree(v, data) for v in tree]
    if isinstance(tree, dict):
        return {k: _render_tree(v, data) for k, v in tree.items()}
    return tree
