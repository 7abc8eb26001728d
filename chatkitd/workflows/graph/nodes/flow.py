"""Control flow: start, end, note, if/else and while."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from chatkit.types import ThreadStreamEvent
from pydantic import BaseModel, ConfigDict, Field

from chatkitd.workflows.graph.cel import Compiler
from chatkitd.workflows.graph.nodes.base import Linear, NodeId, NodeSpec, Step
from chatkitd.workflows.graph.run import GraphRun


class StateVariable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    type: Literal["string", "number", "integer", "boolean", "object", "array"] = "string"
    default: Any = None
    description: str = ""


class Start(Linear):
    """Exposes ``input_as_text`` and declares the typed state variables (the session's values fill them)."""

    kind = "start"
    type: Literal["start"]
    state_variables: list[StateVariable] = Field(default_factory=list)

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        return Step(output={"input_as_text": run.input_as_text}, next=self.next)


class End(NodeSpec):
    """Ends the run; ``output`` (CEL) becomes the run's output, and is said in the chat if nothing was."""

    kind = "end"
    quiet = False
    type: Literal["end"]
    output: str | None = None

    def compile(self, compiler: Compiler) -> Any:
        return compiler.expression(self.output) if self.output else None

    def talks(self) -> bool:
        return False  # a sync action's run answers with its output instead of saying it

    async def run(self, compiled: Any, run: GraphRun) -> AsyncIterator[ThreadStreamEvent]:
        output = compiled.evaluate(run.activation()) if compiled is not None else run.last
        run.step = Step(output=output, next=None)
        if compiled is not None and not run.said_anything:
            async for event in run.say(output):
                yield event


class Note(NodeSpec):
    """A comment on the canvas: never runs, has no edges."""

    kind = "note"
    type: Literal["note"]
    text: str = ""


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: str
    next: NodeId
    label: str | None = None


class IfElse(NodeSpec):
    """The first condition that holds picks the branch; none does: ``else``."""

    kind = "if_else"
    type: Literal["if_else"]
    conditions: list[Condition] = Field(min_length=1)
    else_: NodeId | None = Field(default=None, alias="else")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def edges(self) -> list[tuple[str, str]]:
        edges = [(c.label or c.when, c.next) for c in self.conditions]
        return edges + ([("else", self.else_)] if self.else_ else [])

    def compile(self, compiler: Compiler) -> Any:
        return [compiler.condition(c.when) for c in self.conditions]

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        data = run.activation()
        results = []
        for condition, expression in zip(self.conditions, compiled, strict=True):
            value = expression.evaluate(data)
            results.append({"when": condition.when, "result": value})
            if value is True:
                return Step(run.last, condition.next, {"conditions": results, "branch": condition.when})
        return Step(run.last, self.else_, {"conditions": results, "branch": "else"})


class While(NodeSpec):
    """Runs ``body`` while ``condition`` holds, at most ``max_iterations`` times a run; then ``next``.

    The body's last node leads back to this node.
    """

    kind = "while"
    type: Literal["while"]
    condition: str
    body: NodeId
    next: NodeId | None = None
    max_iterations: int = Field(default=10, ge=1, le=1000)

    def edges(self) -> list[tuple[str, str]]:
        return [("loop", self.body)] + ([("exit", self.next)] if self.next else [])

    def compile(self, compiler: Compiler) -> Any:
        return compiler.condition(self.condition)

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        value = compiled.evaluate(run.activation())
        done = run.iterations.get(self.id, 0)
        detail: dict[str, Any] = {"condition": self.condition, "result": value, "iteration": done}
        if value is True and done < self.max_iterations:
            run.iterations[self.id] = done + 1
            return Step(run.last, self.body, {**detail, "branch": "loop"}, keep_input=True)
        run.iterations.pop(self.id, None)
        capped = value is True
        return Step(run.last, self.next, {**detail, "branch": "exit", "capped": capped}, keep_input=True)
