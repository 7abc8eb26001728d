"""Nodes whose work other parts of chatkitd provide: ``file_search`` (knowledge) and ``mcp`` (tools).

The graph accepts, validates and draws them today. Their run calls the
implementation registered in ``IMPLEMENTATIONS`` by the owning package
(``register(kind, run)``); until one is registered, deploying a graph that
uses the node is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import ConfigDict

from chatkitd.workflows.graph.cel import Compiler
from chatkitd.workflows.graph.nodes.base import Linear, Step
from chatkitd.workflows.graph.run import GraphRun

# kind -> async run(node, query_or_args, run) -> output
Implementation = Callable[[Any, Any, GraphRun], Awaitable[Any]]
IMPLEMENTATIONS: dict[str, Implementation] = {}


def register(kind: str, implementation: Implementation) -> None:
    IMPLEMENTATIONS[kind] = implementation


class _External(Linear):
    model_config = ConfigDict(extra="allow")  # the owning package's own settings

    input: str

    def compile(self, compiler: Compiler) -> Any:
        if self.kind not in IMPLEMENTATIONS:
            raise ValueError(
                f"'{self.kind}' nodes cannot run on this server yet (no implementation installed)"
            )
        return compiler.expression(self.input)

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        value = compiled.evaluate(run.activation())
        output = await IMPLEMENTATIONS[self.kind](self, value, run)
        return Step(output, self.next, {"input": value})


class FileSearch(_External):
    """Searches vector stores (``vector_store_ids``, ``max_num_results``) for ``input`` (CEL, a query)."""

    kind = "file_search"
    type: Literal["file_search"]
    input: str = "workflow.input_as_text"


class Mcp(_External):
    """Calls a tool of an MCP server (``server``, ``tool``) with ``input`` (CEL, the arguments)."""

    kind = "mcp"
    type: Literal["mcp"]
    input: str = "{}"
