"""A graph workflow as written in YAML, checked whole before it may deploy.

``parse_graph`` refuses, naming the node: unknown kinds, duplicate ids, edges
to nodes that do not exist, nodes the start cannot reach, cycles that do not
go through a ``while`` node's body, and CEL that does not parse or type-check
(which covers undefined variables: each node's expressions may name only
state variables the start declares and nodes that run before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chatkitd.errors import InvalidRequest
from chatkitd.workflows.definitions import GraphDefinition
from chatkitd.workflows.graph.cel import CelError, Compiler, Scope
from chatkitd.workflows.graph.kinds import NODE_KINDS
from chatkitd.workflows.graph.nodes.base import NodeSpec
from chatkitd.workflows.graph.nodes.flow import Start, While


class GraphError(InvalidRequest):
    def __init__(self, node: str | None, message: str) -> None:
        where = f"Node '{node}': " if node else ""
        super().__init__(f"Invalid graph: {where}{message}", param=f"nodes.{node}" if node else "nodes")
        self.node = node


@dataclass
class Graph:
    definition: GraphDefinition
    nodes: dict[str, NodeSpec]
    compiled: dict[str, Any]
    start: str
    state_types: dict[str, str]
    defaults: dict[str, Any]

    def talking_node(self, root: str) -> str | None:
        """A node reachable from ``root`` that may show something in the chat or wait for a
        person (``NodeSpec.talks``), if any: what a run answering at once cannot do."""
        return next((n for n in sorted(_reach(self.nodes, [root])) if self.nodes[n].talks()), None)


def parse_graph(definition: GraphDefinition) -> Graph:
    nodes = _parse_nodes(definition.nodes)
    starts = [n for n in nodes.values() if isinstance(n, Start)]
    if len(starts) != 1:
        raise GraphError(None, f"a graph has exactly one start node, found {len(starts)}")
    start = starts[0]
    _check_edges(nodes)
    for action, target in definition.actions.items():
        if target not in nodes or nodes[target].type in ("start", "note"):
            raise GraphError(
                None, f"action '{action}' leads to '{target}', which is not a node it can start at"
            )
    roots = [start.id, *definition.actions.values()]
    _check_reachable(nodes, roots)
    back_edges = _loop_back_edges(nodes)
    order = _topological(nodes, back_edges)
    state_types = {v.name: str(v.type) for v in start.state_variables}
    defaults = {v.name: v.default for v in start.state_variables}
    before = _ancestors(nodes, order, back_edges, roots)
    compiled: dict[str, Any] = {}
    for node_id in order:
        node = nodes[node_id]
        compiler = Compiler(Scope(state_types, frozenset(before[node_id])))
        try:
            compiled[node_id] = node.compile(compiler)
        except CelError as error:
            raise GraphError(node_id, f"CEL: {error}") from None
        except (ValueError, KeyError, TypeError) as error:
            raise GraphError(node_id, str(error)) from None
        except Exception as error:  # noqa: BLE001 - e.g. a JSON schema that is not one
            raise GraphError(node_id, f"{type(error).__name__}: {error}") from None
    return Graph(definition, nodes, compiled, start.id, state_types, defaults)


def _parse_nodes(raw_nodes: list[dict[str, Any]]) -> dict[str, NodeSpec]:
    nodes: dict[str, NodeSpec] = {}
    for index, raw in enumerate(raw_nodes):
        node_id = raw.get("id")
        label = node_id if isinstance(node_id, str) else f"#{index + 1}"
        if not isinstance(node_id, str):
            raise GraphError(label, "every node needs an `id`")
        kind = raw.get("type")
        if kind not in NODE_KINDS:
            raise GraphError(label, f"unknown node type '{kind}'; known: {', '.join(sorted(NODE_KINDS))}")
        if node_id in nodes:
            raise GraphError(label, "two nodes have this id")
        try:
            nodes[node_id] = NODE_KINDS[kind].model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "node"
            raise GraphError(label, f"{where}: {first['msg']}") from None
    return nodes


def _check_edges(nodes: dict[str, NodeSpec]) -> None:
    for node in nodes.values():
        for label, target in node.edges():
            if target not in nodes:
                raise GraphError(node.id, f"its '{label}' edge leads to '{target}', which is not a node")
            if nodes[target].type in ("start", "note"):
                raise GraphError(
                    node.id, f"its '{label}' edge leads to the {nodes[target].type} node '{target}'"
                )


def _reach(nodes: dict[str, NodeSpec], sources: list[str], avoid: str | None = None) -> set[str]:
    seen: set[str] = set()
    stack = [s for s in sources if s != avoid]
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        stack.extend(t for _, t in nodes[node_id].edges() if t != avoid and t not in seen)
    return seen


def _check_reachable(nodes: dict[str, NodeSpec], roots: list[str]) -> None:
    reached = _reach(nodes, roots)
    for node in nodes.values():
        if node.id not in reached and node.type != "note":
            raise GraphError(node.id, "no path from the start node reaches it")


def _loop_back_edges(nodes: dict[str, NodeSpec]) -> set[tuple[str, str]]:
    """Edges that lead back to a ``while`` node from its body (and not from its exit path)."""
    back: set[tuple[str, str]] = set()
    for loop in nodes.values():
        if not isinstance(loop, While):
            continue
        body = _reach(nodes, [loop.body], avoid=loop.id)
        after = _reach(nodes, [loop.next], avoid=loop.id) if loop.next else set()
        for node_id in body - after:
            if any(target == loop.id for _, target in nodes[node_id].edges()):
                back.add((node_id, loop.id))
    return back


def _topological(nodes: dict[str, NodeSpec], back_edges: set[tuple[str, str]]) -> list[str]:
    """Nodes in an order where each comes after its predecessors; a cycle is refused, naming a node on it."""
    incoming = {node_id: 0 for node_id in nodes}
    for node in nodes.values():
        for _, target in node.edges():
            if (node.id, target) not in back_edges:
                incoming[target] += 1
    ready = [node_id for node_id, count in incoming.items() if count == 0]
    order: list[str] = []
    while ready:
        node_id = ready.pop()
        order.append(node_id)
        for _, target in nodes[node_id].edges():
            if (node_id, target) in back_edges:
                continue
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    if len(order) != len(nodes):
        on_cycle = sorted(node_id for node_id, count in incoming.items() if count > 0)
        raise GraphError(on_cycle[0], "it is on a cycle that does not go through a while node's body")
    return order


def _ancestors(
    nodes: dict[str, NodeSpec], order: list[str], back_edges: set[tuple[str, str]], roots: list[str]
) -> dict[str, set[str]]:
    """For each node, the nodes that have run before it whichever way the run came."""
    before: dict[str, set[str] | None] = {node_id: None for node_id in nodes}
    for root in roots:
        before[root] = set()
    for node_id in order:
        mine = before[node_id]
        if mine is None:  # only notes (never reached) stay None
            continue
        for _, target in nodes[node_id].edges():
            if (node_id, target) in back_edges:
                continue
            arriving = mine | {node_id}
            current = before[target]
            before[target] = arriving if current is None else current & arriving
    return {node_id: value or set() for node_id, value in before.items()}
