"""CEL, as Agent Builder's if/else, while, transform and set-state nodes use it.

Expressions are compiled and type-checked once, when a version loads (and so
when it deploys), by ``cel-expr-python`` (the CEL maintainers' bindings of
cel-cpp): never ``eval``. Each node compiles against the variables that exist
where it sits in the graph, so a reference to an unknown state variable or to
a node that cannot have run yet is refused at deploy, naming the node.

Variables an expression can name:

- ``workflow.input_as_text``: the user's message (string);
- ``state.<name>``: the workflow's declared state variables, typed;
- ``input``: the previous node's output;
- ``nodes.<id>``: the output of an earlier node;
- ``output``: inside an agent's widget template, the agent's parsed output.

Templates (instructions, prompts, approval messages) hold ``{{ <expression> }}``
placeholders filled by the same engine.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel

STATE_TYPES: dict[str, Any] = {
    "string": cel.Type.STRING,
    "number": cel.Type.DOUBLE,
    "integer": cel.Type.INT,
    "boolean": cel.Type.BOOL,
    "object": cel.Type.Map(cel.Type.STRING, cel.Type.DYN),
    "array": cel.Type.List(cel.Type.DYN),
}

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)


class CelError(ValueError):
    """An expression that does not parse, does not type-check, or fails when evaluated."""


@dataclass(frozen=True)
class Scope:
    """What an expression at one node may name."""

    state_types: Mapping[str, str]
    earlier_nodes: frozenset[str]
    extra: frozenset[str] = frozenset()  # e.g. "output" in a widget template

    def variables(self) -> dict[str, Any]:
        declared: dict[str, Any] = {"workflow.input_as_text": cel.Type.STRING, "input": cel.Type.DYN}
        for name, kind in self.state_types.items():
            declared[f"state.{name}"] = STATE_TYPES[kind]
        for node_id in self.earlier_nodes:
            declared[f"nodes.{node_id}"] = cel.Type.DYN
        for name in self.extra:
            declared[name] = cel.Type.DYN
        return declared


class Compiler:
    """Compiles expressions for one scope (one CEL environment, made once)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._env = cel.NewEnv(variables=scope.variables())

    def expression(self, source: str) -> Expression:
        try:
            compiled = self._env.compile(source)
        except RuntimeError as error:
            raise CelError(_first_line(str(error))) from None
        return Expression(source, compiled)

    def condition(self, source: str) -> Expression:
        """An expression that must be a boolean (``dyn`` passes: its value is checked when it runs)."""
        expression = self.expression(source)
        kind = expression.compiled.return_type()
        if kind not in (cel.Type.BOOL, cel.Type.DYN):
            raise ValueError(f"its condition is a {kind.name().lower()}, not a bool: {source}")
        return expression

    def template(self, text: str) -> Template:
        parts: list[str | Expression] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            parts.append(text[position : match.start()])
            parts.append(self.expression(match.group(1).strip()))
            position = match.end()
        parts.append(text[position:])
        return Template([p for p in parts if p != ""])


@dataclass(frozen=True)
class Expression:
    source: str
    compiled: Any

    def evaluate(self, activation: Mapping[str, Any]) -> Any:
        try:
            value = self.compiled.eval(data=activation)
        except RuntimeError as error:
            raise CelError(f"{self.source}: {_first_line(str(error))}") from None
        if value.type() == cel.Type.ERROR:
            raise CelError(f"{self.source}: {value.value()}")
        return _plain(value.plain_value())


@dataclass(frozen=True)
class Template:
    parts: list[str | Expression]

    def render(self, activation: Mapping[str, Any]) -> str:
        out = []
        for part in self.parts:
            out.append(part if isinstance(part, str) else as_text(part.evaluate(activation)))
        return "".join(out)


def activation(
    input_as_text: str, state: Mapping[str, Any], outputs: Mapping[str, Any], last: Any
) -> dict[str, Any]:
    """The variables' values for one evaluation (JSON values: the runtime keeps them so)."""
    data: dict[str, Any] = {"workflow.input_as_text": input_as_text, "input": last}
    for name, value in state.items():
        data[f"state.{name}"] = value
    for node_id, value in outputs.items():
        data[f"nodes.{node_id}"] = value
    return data


def as_text(value: Any) -> str:
    """How a value reads inside text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _plain(value: Any) -> Any:
    """CEL results as JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, cel.Type):
        return value.name()
    return value


def _first_line(message: str) -> str:
    message = message.replace("INVALID_ARGUMENT: ", "").replace("ERROR: <input>:", "at ")
    return message.strip().splitlines()[0] if message.strip() else "invalid expression"
