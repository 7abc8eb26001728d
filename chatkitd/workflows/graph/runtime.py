"""``GraphWorkflow``: runs a graph's nodes for a turn, each node a span in the run's trace.

A turn starts at the start node with the thread's history (as model input),
the user's message as ``input_as_text``, and the state: the start node's
defaults, then the session's ``state_variables``, then what ``set_state``
assigned earlier in the thread. A node that asks a person (``user_approval``,
an ``mcp`` call or an agent's tool that needs approval) ends the stream with
the approvals core's cards; the run's position is the pause's state, and the
last answer resumes it (``resume``) in whichever process receives it. A
graph's ``actions`` map other widget actions to the node they start at
(``input`` is then the action's payload).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

from chatkit.actions import Action
from chatkit.errors import CustomStreamError
from chatkit.types import (
    SyncCustomActionResponse,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
)

from chatkitd import approvals
from chatkitd.approvals import ApprovalRequest, Resumption
from chatkitd.context import RequestContext
from chatkitd.errors import InvalidRequest, Unprocessable
from chatkitd.tracing.runs import RunTrace
from chatkitd.workflows.agent import HISTORY_LIMIT
from chatkitd.workflows.base import ComposerChoices, Workflow, declared_action
from chatkitd.workflows.environment import RunEnvironment
from chatkitd.workflows.graph import state as graph_state
from chatkitd.workflows.graph.cel import CelError
from chatkitd.workflows.graph.run import GraphRun, Position, widget_of
from chatkitd.workflows.graph.spec import Graph
from chatkitd.workflows.streaming import HistoryConverter

_CONVERTER = HistoryConverter()
PAUSE_KIND = "graph"  # the approvals core's name for a graph run's pause


class GraphWorkflow(Workflow):
    def __init__(self, id: str, version: str, graph: Graph, env: RunEnvironment) -> None:
        self.id = id
        self.version = version
        self.graph = graph
        self.env = env
        self.models = graph.definition.models
        self.provider = env.model_provider

    def composer_choices(self) -> ComposerChoices:
        return ComposerChoices(list(self.models))

    @property
    def default_model(self) -> str | None:
        return self.models[0] if self.models else None

    def _raise_if_model_failure(self, error: Exception, node: Any, run: GraphRun) -> None:
        """A node's model that failed (no key, unknown model...) ends the turn as any workflow's does."""
        model_for = getattr(node, "_model_for", None)  # agent nodes: the node's, the user's or the workflow's
        model = model_for(run.model, self.models) if model_for else run.model or self.default_model
        self.env.raise_if_model_failure(
            error,
            workflow=self.id,
            version=self.version,
            model=model,
            thread_id=run.thread.id,
            session=run.context.session.id if run.context.session else "-",
            provider=getattr(node, "provider", None),
        )

    # -- turns -------------------------------------------------------------------------

    async def respond(
        self, thread: ThreadMetadata, item: UserMessageItem | None, context: RequestContext, store: Any
    ) -> AsyncIterator[ThreadStreamEvent]:
        if item is None:
            return  # graphs have no client tools to resume after
        page = await store.load_thread_items(thread.id, None, HISTORY_LIMIT, "desc", context)
        conversation = await _CONVERTER.to_agent_input(list(reversed(page.data)))
        saved = await graph_state.load(self.env.db, context.project_id, thread.id)
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
            saved_state=saved,
        )
        async for event in self._drive(run, self.graph.start):
            yield event

    def check_action(self, action_type: str) -> None:
        self._target(action_type)

    def _target(self, action_type: str) -> str:
        """The node an action's run starts at."""
        return declared_action(self.id, self.graph.definition.actions, action_type)

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: Any,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """The run starts at the action's node, with the action's payload as its ``input``."""
        target = self._target(action.type)
        run = await self._action_run(thread, action, context, store)
        async for event in self._drive(run, target):
            yield event

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
        store: Any,
    ) -> SyncCustomActionResponse:
        """The run starts at the action's node as for ``action``, but has no stream: no node on
        its way may show anything or wait for a person (a 400 before anything runs). Its output
        answers: a widget replaces the one that sent the action (saved), anything else leaves it."""
        target = self._target(action.type)
        talking = self.graph.talking_node(target)
        if talking is not None:
            raise InvalidRequest(
                f"Action '{action.type}' of workflow '{self.id}' leads to node '{talking}', which shows "
                "something in the chat or waits for a person, so it is sent with threads.custom_action, "
                "which streams the answer.",
                param="params.action.type",
            )
        run = await self._action_run(thread, action, context, store)
        run.silent = True
        async for _ in self._drive(run, target):
            raise AssertionError("a node that talks ran in a sync action")  # talking_node rules it out
        try:
            widget = widget_of(run.last)
        except ValueError as error:
            raise Unprocessable(f"The action's run ended with {error}", code="invalid_widget") from None
        if widget is None or sender is None:
            return SyncCustomActionResponse(updated_item=None)
        updated = sender.model_copy(update={"widget": widget})
        # No event pipeline persists what a sync action returns: it is saved here.
        await store.save_item(thread.id, updated, context)
        return SyncCustomActionResponse(updated_item=updated)

    async def _action_run(
        self, thread: ThreadMetadata, action: Action[str, Any], context: RequestContext, store: Any
    ) -> GraphRun:
        saved = await graph_state.load(self.env.db, context.project_id, thread.id)
        page = await store.load_thread_items(thread.id, None, HISTORY_LIMIT, "desc", context)
        conversation = await _CONVERTER.to_agent_input(list(reversed(page.data)))
        run = GraphRun(
            self, thread, context, store, "", self._initial_state(context, saved), list(conversation)
        )
        run.saved_state = saved
        run.last = _json_safe(action.payload)
        return run

    async def resume(
        self, thread: ThreadMetadata, resumption: Resumption, context: RequestContext, store: Any
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Go on from where the run asked, with the answers (on the version that asked)."""
        position = Position(**json.loads(resumption.state))
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
        recorder = context.run_trace.recorder if context.run_trace else None
        if recorder is not None:
            for span in approvals.answer_spans(resumption):
                recorder.add(span)
        async for event in self._drive(run, position.node, (position.data, resumption)):
            yield event

    # -- the run loop ------------------------------------------------------------------

    async def _drive(
        self,
        run: GraphRun,
        node_id: str | None,
        resuming: tuple[dict[str, Any], Resumption] | None = None,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Run nodes from ``node_id`` until the graph ends or a node asks a person (``resuming``:
        the first node is the one that asked, and gets the answers)."""
        trace = run.context.run_trace or RunTrace.disabled()
        run.trace = trace
        run.untraced = not trace.enabled
        path: list[str] = []
        state_before = dict(run.state)
        paused: Position | None = None
        asked: list[ApprovalRequest] = []
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
                            run.step = None
                            if resuming is not None:
                                kept, resumption = resuming
                                resuming = None
                                resumed = node.resume(self.graph.compiled[node_id], run, kept, resumption)
                                async for event in resumed:
                                    yield event
                            elif node.quiet:
                                run.step = await node.decide(self.graph.compiled[node_id], run)
                            else:
                                async for event in node.run(self.graph.compiled[node_id], run):
                                    yield event
                        except CelError as error:
                            raise CustomStreamError(
                                f"Workflow step '{node_id}' failed: {error}", allow_retry=False
                            ) from None
                        except Exception as error:
                            self._raise_if_model_failure(error, node, run)
                            raise
                        finally:
                            step = run.step
                            if step is not None:
                                step.output = _json_safe(step.output)
                                # Nodes put only JSON values in their detail (CEL results are made plain).
                                details.update(output=step.output, **step.detail)
                    assert step is not None
                    run.record(node_id, step.output, passes_input=step.keep_input)
                    if step.ask and run.silent:
                        raise InvalidRequest(
                            f"Node '{node_id}' waits for a person, which an action answered at once "
                            "cannot: send it with threads.custom_action.",
                            param="params.action.type",
                        )
                    if step.ask:
                        paused = run.position(node_id, run.model, trace.trace_id, step.kept)
                        asked = step.ask
                        break
                    node_id = step.next
            finally:
                graph_span.update(
                    path=path,
                    state_before=state_before,
                    state=_json_safe(run.state),
                    paused=paused is not None,
                )
        if run.state_changed and run.state != run.saved_state:
            await graph_state.save(self.env.db, run.context.project_id, run.thread.id, run.state)
        if paused is not None:
            cards = await approvals.pause(
                run.thread,
                run.context,
                run.store,
                workflow_id=self.id,
                workflow_version=self.version,
                kind=PAUSE_KIND,
                state=json.dumps(dataclasses.asdict(paused), default=str),
                requests=asked,
                trace=trace.recorder,
            )
            for card in cards:
                yield card

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
