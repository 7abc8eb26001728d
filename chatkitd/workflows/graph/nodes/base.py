"""What every node kind provides: its YAML fields, its outgoing edges, its compiled CEL, and a run.

A kind is a pydantic model (the node as written in YAML) with three methods:

- ``edges()``: ``(label, target node id)`` pairs, the labels being what the
  diagram draws on each edge (``next``, a condition, ``pass``/``fail``...);
- ``compile(compiler)``: its CEL expressions and templates, compiled and
  type-checked against the variables in scope where it sits;
- ``decide(compiled, run)``: the node's ``Step`` (its output and where the
  graph goes next), for nodes that say nothing in the chat; or, for those
  that do (``quiet = False``), ``run(compiled, run)``: an async generator of
  the chat events it produces, which ends by setting ``run.step``.

A node that must wait for a person returns a ``Step`` with ``ask`` (the
questions) and ``kept`` (what it needs afterwards); the runtime pauses the
run with the approvals core, and when the answers come, possibly in another
process, calls the node's ``resume(compiled, run, kept, resumption)``, an
async generator like ``run``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, ClassVar

from chatkit.types import ThreadStreamEvent
from pydantic import BaseModel, ConfigDict, Field

from chatkitd.approvals import Resumption
from chatkitd.workflows.graph.cel import Compiler
from chatkitd.workflows.graph.run import GraphRun, Step

__all__ = ["NO_EVENTS", "GraphRun", "Linear", "NodeId", "NodeSpec", "Step"]

# What a ``resume`` that shows nothing in the chat yields (it stays an async generator).
NO_EVENTS: tuple[ThreadStreamEvent, ...] = ()
NODE_ID = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
NodeId = Annotated[str, Field(pattern=NODE_ID)]


class NodeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ClassVar[str]
    quiet: ClassVar[bool] = True
    id: NodeId
    type: str
    label: str | None = None  # shown on the diagram instead of the id

    def edges(self) -> list[tuple[str, str]]:
        return []

    def compile(self, compiler: Compiler) -> Any:
        return None

    def talks(self) -> bool:
        """Whether running it may show something in the chat or wait for a person: a run
        answering ``threads.sync_custom_action`` has no stream to do either on."""
        return not self.quiet

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        raise NotImplementedError

    def run(self, compiled: Any, run: GraphRun) -> AsyncIterator[ThreadStreamEvent]:
        raise NotImplementedError

    def resume(
        self, compiled: Any, run: GraphRun, kept: dict[str, Any], resumption: Resumption
    ) -> AsyncIterator[ThreadStreamEvent]:
        raise NotImplementedError(f"'{self.kind}' nodes never wait for a person")


class Linear(NodeSpec):
    """A node with one way out."""

    next: NodeId | None = None

    def edges(self) -> list[tuple[str, str]]:
        return [("next", self.next)] if self.next else []
