"""Data nodes: transform (a CEL value) and set_state (assigns state variables, kept for the thread)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chatkitd.workflows.graph.cel import STATE_TYPES, Compiler
from chatkitd.workflows.graph.nodes.base import Linear, Step
from chatkitd.workflows.graph.run import GraphRun


class Transform(Linear):
    """Builds a new value with a CEL expression (say, an object from an agent's parsed output)."""

    kind = "transform"
    type: Literal["transform"]
    expression: str

    def compile(self, compiler: Compiler) -> Any:
        return compiler.expression(self.expression)

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        value = compiled.evaluate(run.activation())
        return Step(value, self.next, {"expression": self.expression, "result": value})


class SetState(Linear):
    """Assigns state variables from CEL expressions; the thread keeps them for its later turns."""

    kind = "set_state"
    type: Literal["set_state"]
    assign: dict[str, str] = Field(min_length=1)

    def compile(self, compiler: Compiler) -> Any:
        unknown = [name for name in self.assign if name not in compiler.scope.state_types]
        if unknown:
            raise ValueError(f"assigns undeclared state variable(s) {', '.join(sorted(unknown))}")
        compiled = {name: compiler.expression(source) for name, source in self.assign.items()}
        for name, expression in compiled.items():
            declared = compiler.scope.state_types[name]
            if not STATE_TYPES[declared].is_assignable_from(expression.compiled.return_type()):
                found = expression.compiled.return_type().name().lower()
                raise ValueError(f"assigns a {found} to state.{name}, which is a {declared}")
        return compiled

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        data = run.activation()
        values = {name: expression.evaluate(data) for name, expression in compiled.items()}
        run.set_state(values)
        return Step(run.last, self.next, {"assigned": values}, keep_input=True)
