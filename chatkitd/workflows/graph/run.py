"""One turn of a graph workflow: the values nodes read and write, and how they talk to the chat.

A ``GraphRun`` is plain data (text, JSON values, model input items), so a
run that waits for a person (a ``user_approval`` node, an ``mcp`` node or an
agent's tool that needs approval) is saved as it stands, as its ``Position``,
with the approvals core (``chatkitd.approvals``), and resumed by any process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from chatkit.errors import CustomStreamError
from chatkit.types import ThreadItemDoneEvent, ThreadMetadata, ThreadStreamEvent, WidgetItem
from chatkit.widgets import WidgetRoot
from pydantic import TypeAdapter, ValidationError

from chatkitd import clock
from chatkitd.approvals import ApprovalRequest
from chatkitd.context import RequestContext
from chatkitd.workflows.environment import WorkflowModels
from chatkitd.workflows.events import chunk_words, stream_assistant_message
from chatkitd.workflows.graph import cel


class GraphHost(Protocol):
    """What nodes use of the workflow running them (``GraphWorkflow``)."""

    id: str
    version: str
    models: list[str]
    provider: WorkflowModels  # models by name; a node with a provider of its own: .model(provider, name)
    env: Any  # the RunEnvironment (settings, database) tools are built with

    @property
    def default_model(self) -> str | None: ...


@dataclass
class Step:
    """A node's result: its output, the node to run next (None ends the run), and what the trace shows."""

    output: Any = None
    next: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    keep_input: bool = False  # the node passes its input through (set_state, note)
    # The run waits here for a person to answer these; ``kept`` is what the node's
    # ``resume`` gets back (JSON values), in whichever process takes the answer.
    ask: list[ApprovalRequest] = field(default_factory=list)
    kept: dict[str, Any] = field(default_factory=dict)


@dataclass
class Position:
    """Everything a paused run needs to go on: JSON-serializable."""

    node: str
    input_as_text: str
    state: dict[str, Any]
    outputs: dict[str, Any]
    last: Any
    conversation: list[Any]
    iterations: dict[str, int]
    model: str | None = None
    trace_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # what the pausing node kept (Step.kept)


_WIDGETS: TypeAdapter[WidgetRoot] = TypeAdapter(WidgetRoot)
_WIDGET_ROOTS = ("Card", "ListView", "Basic")


def widget_of(value: Any) -> WidgetRoot | None:
    """``value`` as a widget when it is a JSON object whose ``type`` is a widget root's (``Card``,
    ``ListView``, ``Basic``); None for any other value. ValueError: it names a root but is no widget."""
    if not isinstance(value, dict) or value.get("type") not in _WIDGET_ROOTS:
        return None
    try:
        return _WIDGETS.validate_python(value)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"a {value['type']} that is not a valid widget: {where}: {first['msg']}") from None


@dataclass
class GraphRun:
    workflow: GraphHost
    thread: ThreadMetadata
    context: RequestContext
    store: Any
    input_as_text: str
    state: dict[str, Any]
    conversation: list[Any]
    model: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    last: Any = None
    iterations: dict[str, int] = field(default_factory=dict)
    said_anything: bool = False
    silent: bool = False  # answering threads.sync_custom_action: nothing is said in the chat
    state_changed: bool = False
    # The state variables as the database holds them, when the run loaded them: a turn whose
    # set_state nodes leave them as they were writes nothing.
    saved_state: dict[str, Any] | None = None
    untraced: bool = True
    trace: Any = None  # the run's RunTrace (chatkitd.tracing.runs), set by the runtime
    step: Step | None = None
    item_ids: list[str] = field(default_factory=list)
    _data: dict[str, Any] | None = None  # the activation, until a value changes

    def activation(self, **extra: Any) -> dict[str, Any]:
        """The values CEL sees (not to be changed by the caller)."""
        if self._data is None:
            self._data = cel.activation(self.input_as_text, self.state, self.outputs, self.last)
        return {**self._data, **extra} if extra else self._data

    def record(self, node_id: str, output: Any, passes_input: bool) -> None:
        """A node's output (JSON values only), and the next node's ``input`` unless the node passes it on."""
        if output is not None or not passes_input:
            self.outputs[node_id] = output
        if not passes_input:
            self.last = output
        self._data = None

    def set_state(self, values: dict[str, Any]) -> None:
        self.state.update(values)
        self.state_changed = True
        self._data = None

    def new_item_id(self, kind: str = "message") -> str:
        return self.store.generate_item_id(kind, self.thread, self.context)

    async def say(self, value: Any) -> AsyncIterator[ThreadStreamEvent]:
        """``value`` in the chat: a widget when it is one (``widget_of``), else an assistant
        message with it as text (JSON for anything but a string)."""
        if self.silent:
            return
        try:
            widget = widget_of(value)
        except ValueError as error:
            raise CustomStreamError(f"The workflow's output is {error}", allow_retry=False) from None
        if widget is not None:
            self.said_anything = True
            item = WidgetItem(
                id=self.new_item_id(), thread_id=self.thread.id, created_at=clock.now(), widget=widget
            )
            yield ThreadItemDoneEvent(item=item)
            return
        text = cel.as_text(value)
        if not text:
            return
        self.said_anything = True
        async for event in stream_assistant_message(self.new_item_id(), self.thread.id, chunk_words(text, 8)):
            yield event

    def position(self, node: str, model: str | None, trace_id: str | None, data: dict[str, Any]) -> Position:
        return Position(
            node=node,
            input_as_text=self.input_as_text,
            state=self.state,
            outputs=self.outputs,
            last=self.last,
            conversation=self.conversation,
            iterations=self.iterations,
            model=model,
            trace_id=trace_id,
            data=data,
        )
