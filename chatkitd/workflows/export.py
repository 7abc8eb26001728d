"""Agent Builder's "Code -> Agents SDK -> Python" export, deployed and run unchanged.

The export is a module with agents and tools at module level, a pydantic
``WorkflowInput`` with ``input_as_text``, and ``async def run_workflow(
workflow_input)`` that runs its agents with ``Runner.run``. Each turn builds
``WorkflowInput`` from the user's message (other fields from the session's
state variables of the same name) and awaits ``run_workflow``; meanwhile
``export_runner`` streams every text agent's output to the chat with the
thread's history before the export's own input, and hosted tools and
guardrails run on chatkitd's own (``hosted_tools``, ``export_guardrails``).
If the run said nothing, what ``run_workflow`` returned is said instead (a
guardrail's failure, say).

The module runs with one substitution: the OpenAI client it makes at import
(``client = AsyncOpenAI()``, for guardrails and file search) is configured
for the workflow's model provider, so an export imports on a server with
no OpenAI key.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import inspect
import itertools
import sys
import types
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, cast

import openai
from agents import Agent
from chatkit.errors import CustomStreamError
from chatkit.types import (
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
)
from pydantic import BaseModel, ValidationError

from chatkitd.context import RequestContext
from chatkitd.models.providers import _key, effective_provider
from chatkitd.tracing.processor import ADOPT
from chatkitd.tracing.runs import RunTrace
from chatkitd.workflows import export_guardrails, export_runner, guardrails, hosted_tools
from chatkitd.workflows.agent import HISTORY_LIMIT
from chatkitd.workflows.base import Workflow
from chatkitd.workflows.context import WorkflowRunContext
from chatkitd.workflows.environment import RunEnvironment
from chatkitd.workflows.events import chunk_words, stream_assistant_message
from chatkitd.workflows.graph.cel import as_text
from chatkitd.workflows.streaming import HistoryConverter, run_events

_CONVERTER = HistoryConverter()
_DONE = object()
_module_numbers = itertools.count(1)


def load_export(
    workflow_id: str, version: str, source: str, path: str | None, env: RunEnvironment
) -> Workflow:
    """Run the export's module (as the server will) and check it can run here; errors name the problem."""
    export_runner.install()
    export_guardrails.install()
    module = types.ModuleType(f"chatkitd_export_{_safe(workflow_id)}_v{version}_{next(_module_numbers)}")
    module.__file__ = path or f"<export {workflow_id} v{version}>"
    module.__dict__["__builtins__"] = _builtins_for(env)
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    run_workflow = getattr(module, "run_workflow", None)
    workflow_input = getattr(module, "WorkflowInput", None)
    if not inspect.iscoroutinefunction(run_workflow):
        raise ValueError("an export defines `async def run_workflow(workflow_input)`")
    required = [
        p for p in inspect.signature(run_workflow).parameters.values() if p.default is inspect.Parameter.empty
    ]
    if len(required) != 1:
        raise ValueError("`run_workflow` must take exactly one argument, the WorkflowInput")
    if not (isinstance(workflow_input, type) and issubclass(workflow_input, BaseModel)):
        raise ValueError("an export defines `class WorkflowInput(BaseModel)` with `input_as_text`")
    if "input_as_text" not in workflow_input.model_fields:
        raise ValueError("WorkflowInput has no `input_as_text` field")
    agents = [value for value in vars(module).values() if isinstance(value, Agent)]
    problems = hosted_tools.unsupported(agents, env)
    if problems:
        provider = effective_provider(env.provider, env.settings).type
        raise ValueError(
            f"these tools cannot run on the configured model provider ({provider}): " + "; ".join(problems)
        )
    return ExportWorkflow(workflow_id, version, run_workflow, workflow_input, env)


class ExportWorkflow(Workflow):
    def __init__(
        self, id: str, version: str, run_workflow: Any, input_class: type[BaseModel], env: RunEnvironment
    ) -> None:
        self.id = id
        self.version = version
        self.run_workflow = run_workflow
        self.input_class = input_class
        self.env = env
        self.provider = env.model_provider
        self.adapted: dict[int, Agent[Any]] = {}

    def _input(self, text: str, context: RequestContext) -> BaseModel:
        values = dict((context.session.state_variables or {}) if context.session else {})
        values["input_as_text"] = text
        known = {k: v for k, v in values.items() if k in self.input_class.model_fields}
        try:
            return self.input_class.model_validate(known)
        except ValidationError as error:
            # Name each variable with what is wrong: absent, or given with the wrong type.
            wrong = ", ".join(f"{'.'.join(str(p) for p in e['loc'])} ({e['msg']})" for e in error.errors())
            raise CustomStreamError(
                f"Workflow '{self.id}' needs these state variables: {wrong}.", allow_retry=False
            ) from None

    def judge_for(self, model_name: str | None) -> guardrails.Judge:
        return guardrails.model_judge(self.provider.get_model(model_name))

    async def respond(
        self, thread: ThreadMetadata, item: UserMessageItem | None, context: RequestContext, store: Any
    ) -> AsyncIterator[ThreadStreamEvent]:
        if item is None:
            return
        page = await store.load_thread_items(thread.id, None, HISTORY_LIMIT, "desc", context)
        earlier = [i for i in reversed(page.data) if i.id != item.id]
        history = list(await _CONVERTER.to_agent_input(earlier)) if earlier else []
        text = " ".join(p.text for p in item.content if isinstance(p, UserMessageTextContent))
        workflow_input = self._input(text, context)
        trace = context.run_trace or RunTrace.disabled()
        turn = _Turn(self, thread, context, store, history, trace)

        async def run() -> Any:
            export_runner.CURRENT.set(turn)
            export_guardrails.JUDGE.set(self.judge_for)
            ADOPT.set(trace.recorder)  # the export's own `with trace(...)` records into this run's trace
            try:
                return await self.run_workflow(workflow_input)
            finally:
                turn.queue.put_nowait(_DONE)

        task = asyncio.create_task(run())
        try:
            while (event := await turn.queue.get()) is not _DONE:
                yield cast(ThreadStreamEvent, event)
            try:
                result = await task
            except Exception as error:
                session = context.session.id if context.session else "-"
                self.env.raise_if_model_failure(
                    error,
                    workflow=self.id,
                    version=self.version,
                    model=turn.model,
                    thread_id=thread.id,
                    session=session,
                )
                raise
            if not turn.said_anything and result is not None:
                said = result.get("output_text", result) if isinstance(result, dict) else result
                message_id = store.generate_item_id("message", thread, context)
                chunks = chunk_words(as_text(said), 8)
                async for event in stream_assistant_message(message_id, thread.id, chunks):
                    yield event
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


class _Turn:
    """One turn of an export: what ``ChatkitdRunner`` needs to run the export's agents in the chat."""

    def __init__(
        self,
        workflow: ExportWorkflow,
        thread: ThreadMetadata,
        context: RequestContext,
        store: Any,
        history: list[Any],
        trace: RunTrace,
    ) -> None:
        self.workflow = workflow
        self.thread = thread
        self.context = context
        self.store = store
        self.history = history
        self.trace = trace
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.said_anything = False
        self.model: str | None = None  # the model the latest agent named, for a failure's log line

    async def run_agent(self, runner: Any, agent: Agent[Any], input: Any, options: dict[str, Any]) -> Any:
        workflow = self.workflow
        agent = hosted_tools.adapt(agent, workflow.env, workflow.adapted)
        self.model = agent.model if isinstance(agent.model, str) else None
        if isinstance(input, str):
            input = [*self.history, {"role": "user", "content": input}]
        elif isinstance(input, list):
            input = [*self.history, *input]
        options["run_config"] = export_runner.run_config(
            options.get("run_config"),
            model_provider=workflow.provider,
            tracing_disabled=not self.trace.enabled,
            trace_id=self.trace.trace_id,
        )
        context = WorkflowRunContext(
            thread=self.thread,
            store=self.store,
            request_context=self.context,
            workflow_id=workflow.id,
            workflow_version=workflow.version,
        )
        # An export passes no context of its own: chatkitd's tools (file search in the session's
        # project, web search's citations, built-in tools) read it from here.
        if options.get("context") is None:
            options["context"] = context
        result = runner.run_streamed(agent, input, **options)
        async with aclosing(run_events(context, result, shown=agent.output_type in (None, str))) as events:
            async for event in events:
                if isinstance(event, ThreadItemDoneEvent):
                    self.said_anything = True
                self.queue.put_nowait(event)
        return result


def _builtins_for(env: RunEnvironment) -> dict[str, Any]:
    """Builtins whose ``import`` hands the module OpenAI clients configured for the workflow's provider."""
    provider = effective_provider(env.provider, env.settings)
    defaults: dict[str, Any] = {"api_key": _key(provider, env.settings) or "no-key-configured"}
    if provider.type == "chat_completions":
        defaults["base_url"] = provider.base_url or env.settings.model_base_url
    shim = types.ModuleType("openai")
    shim.__dict__.update(openai.__dict__)
    for name in ("AsyncOpenAI", "OpenAI"):
        shim.__dict__[name] = _configured(getattr(openai, name), defaults)
    real_import = builtins.__import__

    def importer(
        name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> Any:
        if name == "openai" and level == 0:
            return shim
        return real_import(name, globals, locals, fromlist, level)

    namespace = dict(builtins.__dict__)
    namespace["__import__"] = importer
    return namespace


def _configured(client_class: type, defaults: dict[str, Any]) -> type:
    class Configured(client_class):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            for key, value in defaults.items():
                kwargs.setdefault(key, value)
            super().__init__(*args, **kwargs)

    Configured.__name__ = Configured.__qualname__ = client_class.__name__
    return Configured


def _safe(workflow_id: str) -> str:
    return workflow_id.replace("-", "_").replace(".", "_")
