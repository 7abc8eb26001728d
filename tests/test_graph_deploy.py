"""``chatkitd workflows deploy`` refuses a broken graph whole, naming the node at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from chatkitd.cli import main
from chatkitd.workflows.graph.kinds import NODE_KINDS

START = "  - {id: start, type: start, next: a, state_variables: [{name: count, type: integer}]}\n"
END = "  - {id: done, type: end}\n"


def graph(*nodes: str, head: str = START) -> str:
    return "id: broken\nnodes:\n" + head + "".join(f"  - {n}\n" for n in nodes) + END


REFUSALS = {
    "unknown kind": (graph("{id: a, type: teleport, next: done}"), "Node 'a': unknown node type 'teleport'"),
    "dangling edge": (
        graph("{id: a, type: transform, expression: '1', next: nowhere}"),
        "Node 'a': its 'next' edge leads to 'nowhere', which is not a node",
    ),
    "unreachable": (
        graph("{id: a, type: transform, expression: '1', next: done}", "{id: lost, type: end}"),
        "Node 'lost': no path from the start node reaches it",
    ),
    "cycle outside a while": (
        graph(
            "{id: a, type: transform, expression: '1', next: b}",
            "{id: b, type: if_else, conditions: [{when: 'state.count > 1', next: a}], else: done}",
        ),
        "is on a cycle that does not go through a while node's body",
    ),
    "cycle through a while's exit": (
        graph(
            "{id: a, type: while, condition: 'state.count < 3', body: b, next: c}",
            "{id: b, type: transform, expression: '1', next: a}",
            "{id: c, type: if_else, conditions: [{when: 'state.count > 1', next: a}], else: done}",
        ),
        "is on a cycle that does not go through a while node's body",
    ),
    "undefined state variable": (
        graph("{id: a, type: if_else, conditions: [{when: 'state.nope == 1', next: done}], else: done}"),
        "Node 'a': CEL: at 1:6: undeclared reference to 'state.nope'",
    ),
    "a node that has not run yet": (
        graph(
            "{id: a, type: transform, expression: 'nodes.b', next: b}",
            "{id: b, type: transform, expression: '1', next: done}",
        ),
        "Node 'a': CEL: at 1:6: undeclared reference to 'nodes.b'",
    ),
    "CEL that does not parse": (
        graph("{id: a, type: transform, expression: 'state.count +', next: done}"),
        "Node 'a': CEL: at 1:14: Syntax error",
    ),
    "CEL that does not type-check": (
        graph("{id: a, type: if_else, conditions: [{when: 'state.count == \"x\"', next: done}], else: done}"),
        "Node 'a': CEL: at 1:13: found no matching overload for '_==_' applied to '(int, string)'",
    ),
    "a condition that is not a boolean": (
        graph(
            "{id: a, type: while, condition: 'state.count', body: b, next: done}",
            "{id: b, type: transform, expression: '1', next: a}",
        ),
        "Node 'a': its condition is a int, not a bool",
    ),
    "set_state of the wrong type": (
        graph("{id: a, type: set_state, assign: {count: '\"many\"'}, next: done}"),
        "Node 'a': assigns a string to state.count, which is a integer",
    ),
    "set_state of an undeclared variable": (
        graph("{id: a, type: set_state, assign: {other: '1'}, next: done}"),
        "Node 'a': assigns undeclared state variable(s) other",
    ),
    "a template with a bad placeholder": (
        graph("{id: a, type: user_approval, message: 'Pay {{ state.amount }}?', on_approve: done}"),
        "Node 'a': CEL: at 1:6: undeclared reference to 'state.amount'",
    ),
    "an invalid JSON schema": (
        graph("{id: a, type: agent, output: {type: json, schema: {type: 12}}, next: done}"),
        "Node 'a': SchemaError",
    ),
    "two start nodes": (graph("{id: a, type: start, next: done}"), "exactly one start node, found 2"),
    "duplicate ids": (graph("{id: a, type: end}", "{id: a, type: end}"), "Node 'a': two nodes have this id"),
    "an edge into the start node": (
        graph("{id: a, type: transform, expression: '1', next: start}"),
        "Node 'a': its 'next' edge leads to the start node 'start'",
    ),
    "a bad field": (graph("{id: a, type: transform, expresion: '1', next: done}"), "Node 'a': expression"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_deploy_refuses_naming_the_node(case, tmp_path: Path):
    text, message = REFUSALS[case]
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    CliRunner().invoke(main, ["migrate"], env=env, catch_exceptions=False)
    result = CliRunner().invoke(main, ["workflows", "deploy", str(path)], env=env)
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert "Invalid graph" in result.output


def test_a_valid_graph_deploys(tmp_path: Path):
    path = tmp_path / "fine.yaml"
    path.write_text(graph("{id: a, type: transform, expression: 'state.count + 1', next: done}"))
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    CliRunner().invoke(main, ["migrate"], env=env, catch_exceptions=False)
    result = CliRunner().invoke(main, ["workflows", "deploy", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "Deployed broken version 1" in result.output


EXAMPLES = Path(__file__).parents[1] / "examples"
# What deploying an example needs besides its path: an Agent Builder export is named by its id.
DEPLOY_ARGS = {"agent_builder_export.py": ["--id", "wf_68f0example"]}


def test_every_example_deploys(tmp_path: Path):
    """Every workflow file in examples/ (its folders hold an embedding page and an MCP server)."""
    files = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".py"))
    assert {"graph-support.yaml", "agent_builder_export.py"} <= {p.name for p in files}
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    CliRunner().invoke(main, ["migrate"], env=env, catch_exceptions=False)
    for path in files:
        result = CliRunner().invoke(
            main, ["workflows", "deploy", str(path), *DEPLOY_ARGS.get(path.name, [])], env=env
        )
        assert result.exit_code == 0, f"{path.name}: {result.output}"
        assert result.output.startswith("Deployed "), result.output


def test_the_graph_example_uses_every_node_kind():
    """examples/graph-support.yaml shows the whole palette."""
    example = yaml.safe_load((EXAMPLES / "graph-support.yaml").read_text())
    assert {node["type"] for node in example["nodes"]} == set(NODE_KINDS)
