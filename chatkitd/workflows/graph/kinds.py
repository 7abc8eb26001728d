"""The node kinds a graph may use, by their Agent Builder names.

``tests/test_graph_nodes.py`` fails when a kind here has no test.
"""

from __future__ import annotations

from chatkitd.workflows.graph.nodes.agent import AgentNode
from chatkitd.workflows.graph.nodes.approval import UserApproval
from chatkitd.workflows.graph.nodes.base import NodeSpec
from chatkitd.workflows.graph.nodes.checks import Guardrails
from chatkitd.workflows.graph.nodes.data import SetState, Transform
from chatkitd.workflows.graph.nodes.file_search import FileSearch
from chatkitd.workflows.graph.nodes.flow import End, IfElse, Note, Start, While
from chatkitd.workflows.graph.nodes.mcp_call import Mcp

NODE_KINDS: dict[str, type[NodeSpec]] = {
    kind.kind: kind
    for kind in (
        Start,
        AgentNode,
        End,
        Note,
        IfElse,
        While,
        UserApproval,
        Transform,
        SetState,
        Guardrails,
        FileSearch,
        Mcp,
    )
}
