"""``GraphWorkflow``: runs a graph's nodes for a turn, each node a span in the run's trace.

A turn starts at the start node with the thread's history (as model input),
the user's message as ``input_as_text``, and the state: the start node's
defaults, then the session's ``state_variables``, then what ``set_state``
assigned earlier in the thread. A ``user_approval`` node ends the stream with
its question; the answer (a ``threads.custom_action``) resumes the run from
its saved position in whichever process receives it. A graph's ``actions``
map other widget actions to the node they start at (``input`` is then the
action's payload).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from agents.models.interface import Model, ModelProvider
from chatkit.actions import Action
from chatkit.errors import CustomStreamError
from chatkit.types import (
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
)

from chatkitd.context import RequestContext
from chatkitd.models.providers import ProviderDefinition, build_model
from chatkitd.tracing.runs import RunTrace
from chatkitd.workflows.agent import HISTORY_LIMIT, RunEnvironment
from chatkitd.workflows.base import ComposerChoices, Workflow
from chatkitd.workflows.graph import state as graph_state
from chatkitd.workflows.graph.cel import CelError
from chatkitd.workflows.graph.nodes.approval import APPROVAL_ACTION, UserApproval, approval_card
from chatkitd.workflows.graph.run import GraphRun, Position, Step
from chatkitd.workflows.graph.spec import Graph
from chatkitd.workflows.streaming import HistoryConverter

_CONVERTER = HistoryConverter()


class _Provider(ModelProvider):
    def __init__(self, workflow: GraphWorkflow) -> None:
        self.workflow = workflow

    def get_model(self, model_name: str | None) -> Model:
        return self.workflow.model_for(None, model_name)


class GraphWorkflow(Workflow):
    def __init__(self, id: str, version: str, graph: Graph, env: RunEnvironment) -> None:
        self.id = id
        self.version = version
        self.graph = graph
        self.env = env
        self.models = graph.definition.models
        self.provider: ModelProvider = _Provider(self)
        self._models: dict[tuple[str, str | None], Model] = {}

    def composer_choices(self) -> ComposerChoices:
        return ComposerChoices(list(self.models))

    @property
    def default_model(self) -> str | None:
        return self.models[0] if self.models else None

    def model_for(self, provider: ProviderDefinition | None, name: str | None) -> Model:
        """The model for a node (its own provider, else the workflow's), built once per process."""
        provider = provider or self.graph.definition.provider
        key = (provider.model_dump_json() if provider else "", name)
        model = self._models.get(key)
        if model is None:
            model = self._models[key] = build_model(provider, name, self.env.settings)
        return model

    # -- turns -------------------------------------------------------------------------

    async def respond(
        self, thread: ThreadMetadata, item: UserMessageItem | None, context: RequestContext, store: Any
    ) -> AsyncIterator[ThreadStreamEvent]:
        if item is None:
            return  # graphs have no client tools to resume after
        page = await store.load_thread_items(thread.id, None, HISTORY_LIMIT, "desc", context)
        conversation = await _CONVERTER.to_agent_input(list(reversed(page.data)))
        saved, pending = await graph_state.load(self.env.db, context.project_id, thread.id)
        text = " ".join(p.text for p in item.content if isinstance(p, UserMessageTextContent))
        run = GraphRun(
            workflow=self,
            thread=thread,
            context=context,
            store=store,
            input_as_text=text,
            state=self._initial_state(context, saved),
            conversation=list(conversation),
            model=self._pick_model(item.inference_options.model if item.inference_options else None),
        )
        run.had_pause = pending is not None  # this turn abandons it: the save clears it
        async for event in self._drive(run, self.graph.start, [item.id]):
            yield event

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: Any,
    ) -> AsyncIterator[ThreadStreamEvent]:
        if action.type == APPROVAL_ACTION:
            async for event in self._answer(thread, action, sender, context, store):
                yield event
            return
        target = self.graph.definition.actions.get(action.type)
        if target is None:
            async for event in super().action(thread, action, sender, context, store):
                yield event
            return
        saved, _ = await graph_state.load(self.env.db, context.project_id, thread.id)
        page = await store.load_thread_items(thread.id, None, HISTORY_LIMIT, "desc", context)
        conversation = await _CONVERTER.to_agent_input(list(reversed(page.data)))
        run = GraphRun(
            self, thread, context, store, "", self._initial_state(context, saved), list(conversation)
        )
        run.last = _json_safe(action.payload)
        async for event in self._drive(run, target, []):
            yield event

    async def _answer(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: Any,
    ) -> AsyncIterator[ThreadStreamEvent]:
        payload = action.payload if isinstance(action.payload, dict) else {}
        token, answer = str(payload.get("token", "")), payload.get("answer")
        if answer not in ("approve", "reject"):
            raise CustomStreamError("An approval is answered with 'approve' or 'reject'.", allow_retry=False)
        position = await graph_state.claim(self.env.db, context.project_id, thread.id, token)
        if position is None:
            raise CustomStreamError("This request is no longer waiting for an answer.", allow_retry=False)
        node = self.graph.nodes.get(position.node)
        if not isinstance(node, UserApproval):
            raise CustomStreamError(
                "This request belongs to another version of the workflow.", allow_retry=False
            )
        if sender is not None:
            answered = sender.model_copy(
                update={"widget": approval_card(position.data.get("message", ""), token, answer)}
            )
            yield ThreadItemReplacedEvent(item=answered)
        run = GraphRun(
            workflow=self,
            thread=thread,
            context=context,
            store=store,
            input_as_text=position.input_as_text,
            state=position.state,
            conversation=position.conversation,
            model=position.model,
            outputs=position.outputs,
            last=position.last,
            iterations=position.iterations,
        )
        step = node.resume(answer)
        async for event in self._drive(run, position.node, [], resumed=step):
            yield event

    # -- the run loop ------------------------------------------------------------------

    async def _drive(
        self, run: GraphRun, node_id: str | None, item_ids: list[str], resumed: Step | None = None
    ) -> AsyncIterator[ThreadStreamEvent]:
        trace = run.context.run_trace or RunTrace.disabled()
        run.trace = trace
        run.untraced = not trace.enabled
        path: list[str] = []
        state_before = dict(run.state)
        paused: tuple[Position, str] | None = None
        with trace.span(f"graph {self.id}", {"workflow": self.id, "version": self.version}) as graph_span:
            try:
                steps = 0
                while node_id is not None:
                    steps += 1
                    if steps > self.graph.definition.max_steps:
                        raise CustomStreamError(
                            f"The workflow stopped after {self.graph.definition.max_steps} steps.",
                            allow_retry=False,
                        )
                    path.append(node_id)
                    node = self.graph.nodes[node_id]
                    with trace.span(
                        f"{node.type} {node.id}", {"node": node.id, "type": node.type, "input": run.last}
                    ) as details:
                        try:
                            if resumed is not None:
                                run.step, resumed = resumed, None
                            elif node.quiet:
                                run.step = await node.decide(self.graph.compiled[node_id], run)
                            else:
                                run.step = None
                                async for event in node.run(self.graph.compiled[node_id], run):
                                    yield event
                        except CelError as error:
                            raise CustomStreamError(
                                f"Workflow step '{node_id}' failed: {error}", allow_retry=False
                            ) from None
                        finally:
                            step = run.step
                            if step is not None:
                                step.output = _json_safe(step.output)
                                # Nodes put only JSON values in their detail (CEL results are made plain).
                                details.update(output=step.output, **step.detail)
                    assert step is not None
                    run.record(node_id, step.output, passes_input=step.keep_input)
                    if step.pause:
                        position = run.position(node_id, run.model, trace.trace_id, step.detail)
                        paused = (position, step.detail["token"])
                        break
                    node_id = step.next
            finally:
                graph_span.update(
                    path=path,
                    state_before=state_before,
                    state=_json_safe(run.state),
                    paused=paused is not None,
                )
        if run.state_changed or paused is not None or run.had_pause:
            await graph_state.save(
                self.env.db,
                run.context.project_id,
                run.thread.id,
                run.state,
                paused[0] if paused else None,
                paused[1] if paused else None,
            )

    # -- helpers ----------------------------------------------------------------------

    def _initial_state(self, context: RequestContext, saved: dict[str, Any]) -> dict[str, Any]:
        session_values = (context.session.state_variables or {}) if context.session else {}
        state: dict[str, Any] = {}
        for name, kind in self.graph.state_types.items():
            value = self.graph.defaults.get(name)
            if name in session_values:
                value = session_values[name]
            if name in saved:
                value = saved[name]
            state[name] = _coerce(value, kind)
        return state

    def _pick_model(self, requested: str | None) -> str | None:
        if requested is None or not self.models:
            return None
        if requested not in self.models:
            choices = ", ".join(self.models)
            raise CustomStreamError(
                f"Model '{requested}' is not available in workflow '{self.id}'. It allows: {choices}.",
                allow_retry=False,
            )
        return requested


_ZERO: dict[str, Any] = {
    "string": "",
    "number": 0.0,
    "integer": 0,
    "boolean": False,
    "object": {},
    "array": [],
}


def _coerce(value: Any, kind: str) -> Any:
    """A value as its declared type (CEL is strict about types); unset becomes the type's zero."""
    if value is None:
        return _ZERO[kind]
    try:
        if kind == "number" and not isinstance(value, bool):
            return float(value)
        if kind == "integer" and not isinstance(value, bool):
            return int(value)
        if kind == "string" and not isinstance(value, str):
            return json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    except (TypeError, ValueError):
        return _ZERO[kind]
    return value


_SCALARS = (str, int, float, bool, type(None))


def _json_safe(value: Any) -> Any:
    """The value as JSON would give it back (what is saved, traced and seen by CEL)."""
    if isinstance(value, _SCALARS):
        return value
    return json.loads(json.dumps(value, default=str))
