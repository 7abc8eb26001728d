"""Agent workflows: one Agents SDK run per turn, streamed to ChatKit by chatkit's converter.

Each turn loads the thread's history as input, builds the agent for the
session (state variables, chosen model, forced tool), runs it with
``Runner.run_streamed`` and streams it through
``chatkit.agents.stream_agent_response``. The run's SDK spans go to the
trace the runtime opened for it (``context.run_trace``), in chatkitd's
database and nowhere else. A model server that fails (unknown model,
unreachable, refused key) becomes a clear error event and one log line.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from agents import Agent, FunctionTool, ModelSettings, RunContextWrapper, Runner
from agents.models.interface import ModelTracing
from agents.tool_context import ToolContext
from chatkit.actions import Action
from chatkit.errors import CustomStreamError
from chatkit.types import (
    InferenceOptions,
    SyncCustomActionResponse,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
)

from chatkitd import approvals
from chatkitd.approvals import Resumption
from chatkitd.compat.chatkit import Preloaded
from chatkitd.context import RequestContext
from chatkitd.errors import InvalidRequest
from chatkitd.tracing.runs import RunTrace
from chatkitd.workflows import agent_pause
from chatkitd.workflows.base import ComposerChoices, Workflow, declared_action
from chatkitd.workflows.context import WorkflowRunContext
from chatkitd.workflows.definitions import AgentAction
from chatkitd.workflows.environment import RunEnvironment
from chatkitd.workflows.streaming import HistoryConverter, run_events

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 200
TITLE_PROMPT = "Write a short title (at most six words, no quotes) for a conversation that starts with:"
TITLE_TIMEOUT_SECONDS = 15.0


@dataclass
class AgentRun:
    """What an agent factory receives to build the agent for one turn."""

    state_variables: dict[str, Any]
    model: str | None
    request_context: RequestContext


def _converter(
    env: RunEnvironment, context: RequestContext, model: str | None, thread_id: str
) -> HistoryConverter:
    """This run's history converter: attachments as the run's model can take them (documents
    indexed into the thread's own store instead, when the workflow says so)."""
    from chatkitd.knowledge import service, thread_uploads
    from chatkitd.knowledge.attachment_inputs import for_run

    # The platform's blob store (its client is one per process, whichever back end).
    knowledge = service.for_run(env.db, env.settings)
    index = None
    if env.thread_uploads.index:
        index = thread_uploads.indexer(env.db, context.project_id, thread_id, knowledge.worker.wake)
    return HistoryConverter(
        for_run(env.settings, env.provider, model, context.project_id, knowledge.blobs, index)
    )


AgentFactory = Callable[[AgentRun], "Agent[Any] | Awaitable[Agent[Any]]"]


class AgentWorkflow(Workflow):
    """A workflow whose turns are Agents SDK runs."""

    def __init__(self, id: str, version: str, factory: AgentFactory, env: RunEnvironment) -> None:
        self.id = id
        self.version = version
        self.factory = factory
        self.env = env
        self.provider = env.model_provider

    def composer_choices(self) -> ComposerChoices:
        # A YAML agent's factory knows its tools' names (loader.yaml_agent_factory); a Python
        # factory builds them per run, so only its MODELS are known.
        return ComposerChoices(list(self.env.models), list(getattr(self.factory, "tool_names", [])))

    def _pick_model(self, requested: str | None) -> str | None:
        allowed = self.env.models
        if requested is None:
            return allowed[0] if allowed else None
        if requested not in allowed:
            choices = ", ".join(allowed) if allowed else "only its default model"
            raise CustomStreamError(
                f"Model '{requested}' is not available in workflow '{self.id}'. It allows: {choices}.",
                allow_retry=False,
            )
        return requested

    async def build_agent(self, run: AgentRun, tool_choice: str | None) -> Agent[Any]:
        agent = self.factory(run)
        if inspect.isawaitable(agent):
            agent = await agent
        if tool_choice is not None:
            names = {getattr(tool, "name", None) for tool in agent.tools}
            if tool_choice not in names:
                raise CustomStreamError(
                    f"Workflow '{self.id}' has no tool '{tool_choice}' to choose.", allow_retry=False
                )
            agent = agent.clone(
                model_settings=agent.model_settings.resolve(ModelSettings(tool_choice=tool_choice))
            )
        return agent

    async def respond(
        self,
        thread: ThreadMetadata,
        item: UserMessageItem | None,
        context: RequestContext,
        store: Any,
    ) -> AsyncIterator[ThreadStreamEvent]:
        page = await store.load_thread_items(thread.id, None, HISTORY_LIMIT, "desc", context)
        options: InferenceOptions | None
        if item is not None:
            options = item.inference_options
            tool_choice = options.tool_choice.id if options.tool_choice else None
        else:
            # Resuming after a client tool: keep the model the user picked for this turn.
            last = next((i for i in page.data if isinstance(i, UserMessageItem)), None)
            options, tool_choice = (last.inference_options if last else None), None
        model = self._pick_model(options.model if options else None)
        run_context = self._run_context(thread, Preloaded(store, thread.id, page), context)
        try:
            agent = await self.build_agent(AgentRun(run_context.state_variables, model, context), tool_choice)
        except Exception as error:
            self._raise_if_model_failure(error, model, thread.id, context)
            raise
        agent_input = await _converter(self.env, context, model, thread.id).to_agent_input(
            list(reversed(page.data))
        )
        async for event in self._run(agent, agent_input, run_context, store, model):
            yield event

    async def resume(
        self,
        thread: ThreadMetadata,
        resumption: Resumption,
        context: RequestContext,
        store: Any,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Go on with a run that paused for approval, with the answers applied."""
        model = agent_pause.saved_model(resumption.state)
        run_context = self._run_context(thread, store, context)
        try:
            agent = await self.build_agent(AgentRun(run_context.state_variables, model, context), None)
        except Exception as error:
            self._raise_if_model_failure(error, model, thread.id, context)
            raise
        state = await agent_pause.restored(agent, resumption.state, run_context, resumption)
        recorder = context.run_trace.recorder if context.run_trace else None
        if recorder is not None:
            for span in approvals.answer_spans(resumption):
                recorder.add(span)
        async for event in self._run(agent, state, run_context, store, model):
            yield event

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: Any,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """A widget action: its tool runs with the payload, then the agent answers knowing the result."""
        config = self._action_config(action.type)
        page = await store.load_thread_items(thread.id, None, HISTORY_LIMIT, "desc", context)
        model = self._pick_model(None)
        run_context = self._run_context(thread, Preloaded(store, thread.id, page), context)
        agent = await self.build_agent(AgentRun(run_context.state_variables, model, context), None)
        history = await _converter(self.env, context, model, thread.id).to_agent_input(
            list(reversed(page.data))
        )
        agent_input: list[Any] = list(history)
        payload = action.payload if action.payload is not None else {}
        if config.tool is None:
            described = json.dumps(payload, ensure_ascii=False, default=str)
            note = f"[The user chose the action '{action.type}' with this payload: {described}]"
            agent_input.append({"role": "user", "content": note})
        else:
            agent_input += await self._run_action_tool(agent, run_context, config.tool, payload)
        async for event in self._run(agent, agent_input, run_context, store, model):
            yield event

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: Any,
    ) -> SyncCustomActionResponse:
        """A widget action answered at once: its tool runs with the payload; no model is asked."""
        config = self._action_config(action.type)
        if config.tool is None:
            raise InvalidRequest(
                f"Action '{action.type}' of workflow '{self.id}' asks the agent, so it is sent with "
                "threads.custom_action, which streams the answer.",
                param="params.action.type",
            )
        run_context = self._run_context(thread, store, context)
        agent = await self.build_agent(AgentRun(run_context.state_variables, None, context), None)
        payload = action.payload if action.payload is not None else {}
        await self._run_action_tool(agent, run_context, config.tool, payload)
        return SyncCustomActionResponse(updated_item=None)

    def check_action(self, action_type: str) -> None:
        self._action_config(action_type)

    def _action_config(self, action_type: str) -> AgentAction:
        return declared_action(self.id, self.env.actions, action_type)

    async def _run_action_tool(
        self, agent: Agent[Any], run_context: WorkflowRunContext, name: str, payload: Any
    ) -> list[dict[str, Any]]:
        """Run the agent's tool ``name`` with an action's payload, in a span of the run's trace;
        returns the call and its output as the model's input items."""
        tools = await agent.get_all_tools(RunContextWrapper(context=run_context))
        tool = next((t for t in tools if isinstance(t, FunctionTool) and t.name == name), None)
        if tool is None:
            message = f"Workflow '{self.id}' has no tool '{name}' for this action."
            raise CustomStreamError(message, allow_retry=False)
        call_id = f"call_{secrets.token_hex(12)}"
        arguments = json.dumps(payload, ensure_ascii=False, default=str)
        trace = run_context.request_context.run_trace or RunTrace.disabled()
        with trace.span(f"action tool {name}", {"tool": name, "arguments": arguments}) as details:
            tool_context = ToolContext(
                context=run_context, tool_name=name, tool_call_id=call_id, tool_arguments=arguments
            )
            output = str(await tool.on_invoke_tool(tool_context, arguments))
            details["output"] = output
        return [
            {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments},
            {"type": "function_call_output", "call_id": call_id, "output": output},
        ]

    def _run_context(self, thread: ThreadMetadata, store: Any, context: RequestContext) -> WorkflowRunContext:
        session = context.session
        return WorkflowRunContext(
            thread=thread,
            store=store,
            request_context=context,
            workflow_id=self.id,
            workflow_version=self.version,
            state_variables=dict(session.state_variables or {}) if session else {},
        )

    async def _run(
        self,
        agent: Agent[Any],
        agent_input: Any,
        run_context: WorkflowRunContext,
        store: Any,
        model: str | None,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """One streamed run (a new turn, or a paused one resumed); a run that stops for
        approval ends with the approval cards."""
        thread, context = run_context.thread, run_context.request_context
        run_trace = context.run_trace or RunTrace.disabled()
        run_config = run_trace.run_config(
            model_provider=self.provider,
            workflow_name=f"{self.id} v{self.version}",
            group_id=thread.id,
        )
        try:
            result = Runner.run_streamed(
                agent,
                agent_input,
                context=run_context,
                run_config=run_config,
                max_turns=self.env.max_turns,
            )
            async with aclosing(run_events(run_context, result)) as events:
                async for event in events:
                    yield event
            requests = agent_pause.requests_for(result.interruptions)
            if requests:
                cards = await approvals.pause(
                    thread,
                    context,
                    store,
                    workflow_id=self.id,
                    workflow_version=self.version,
                    kind=agent_pause.KIND,
                    state=agent_pause.saved_state(result.to_state(), model),
                    requests=requests,
                    trace=run_trace.recorder,
                )
                for card in cards:
                    yield card
        except BaseException as error:
            self._raise_if_model_failure(error, model, thread.id, context)
            raise

    def _raise_if_model_failure(
        self, error: BaseException, model: str | None, thread_id: str, context: RequestContext
    ) -> None:
        session = context.session.id if context.session else "-"
        self.env.raise_if_model_failure(
            error, workflow=self.id, version=self.version, model=model, thread_id=thread_id, session=session
        )

    async def title(self, thread: ThreadMetadata, first_message: str, context: RequestContext) -> str | None:
        """Ask the workflow's default model for a title; None (offline title) on any failure."""
        try:
            model = self.provider.get_model(self._pick_model(None))
            response = await asyncio.wait_for(
                model.get_response(
                    None,
                    f"{TITLE_PROMPT}\n\n{first_message[:2000]}",
                    ModelSettings(),
                    [],
                    None,
                    [],
                    ModelTracing.DISABLED,
                    previous_response_id=None,
                    conversation_id=None,
                    prompt=None,
                ),
                TITLE_TIMEOUT_SECONDS,
            )
        except Exception as error:  # noqa: BLE001
            logger.info("titling with %s failed, using the offline title: %s", self.id, error)
            return None
        text = "".join(
            getattr(part, "text", "")
            for out in response.output
            if getattr(out, "type", None) == "message"
            for part in getattr(out, "content", [])
        )
        title = " ".join(text.strip().strip("\"'").split())
        return title[:100] or None
