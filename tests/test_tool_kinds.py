"""The YAML tool kinds registry: every kind has a builder and a test, and bad tools are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkitd.errors import InvalidRequest
from chatkitd.workflows.definitions import TOOL_KINDS, parse_yaml
from chatkitd.workflows.tools import TOOL_BUILDERS

TESTS = Path(__file__).parent
# Each kind, and the test module that runs a workflow using it end to end (the file
# holding that workflow's YAML: a module that writes its workflows itself is its own file).
TESTED_BY = {
    "builtin": ("test_agent_workflows.py", "workflows_data/scripted.yaml"),
    "python": ("test_approvals.py", "workflows_data/approvals.yaml"),
    "mcp": ("test_mcp.py", "test_mcp.py"),
    "web_search": ("test_web_search.py", "test_web_search.py"),
    "file_search": ("knowledge/test_file_search_workflow.py", "knowledge/test_file_search_workflow.py"),
}


def test_every_kind_has_a_builder():
    assert set(TOOL_BUILDERS) == set(TOOL_KINDS)


@pytest.mark.parametrize("kind", sorted(TOOL_KINDS))
def test_every_kind_has_an_end_to_end_test(kind):
    assert kind in TESTED_BY, f"tool kind `{kind}` has no end-to-end test listed in TESTED_BY"
    module, workflow = TESTED_BY[kind]
    assert (TESTS / module).is_file()
    text = (TESTS / workflow).read_text()
    assert f"- {kind}:" in text, f"{workflow} deploys no workflow with a `{kind}` tool"


def agent(tools: str) -> str:
    return f"id: t\nprovider: {{type: scripted, script: []}}\ntools:\n{tools}"


@pytest.mark.parametrize(
    ("tools", "param", "words"),
    [
        ("  - nothing: 1\n", "tools.0", "exactly one of `builtin`, `python`, `mcp`, `web_search`"),
        ("  - {builtin: current_time, python: 'a:b'}\n", "tools.0", "exactly one of"),
        ("  - python: not-a-path\n", "tools.0.python", "pattern"),
        ("  - {builtin: current_time, require_approval: sometimes}\n", "tools.0.require_approval", "always"),
        ("  - {builtin: current_time, extra: 1}\n", "tools.0.extra", "Extra inputs"),
        (
            "  - mcp: {server_label: crm, url: 'http://127.0.0.1/mcp', headers: {Authorization: Bearer x}}\n",
            "tools.0.mcp",
            "headers 'Authorization' carries a credential: write `env:NAME`",
        ),
        (
            "  - mcp: {server_label: crm, command: srv, env: {CRM_API_KEY: k3y}}\n",
            "tools.0.mcp",
            "env 'CRM_API_KEY' carries a credential",
        ),
    ],
)
def test_a_bad_tool_is_refused_naming_where(tools, param, words):
    with pytest.raises(InvalidRequest) as refused:
        parse_yaml(agent(tools))
    assert refused.value.param == param
    assert words in refused.value.message


def test_require_approval_is_per_tool():
    definition = parse_yaml(
        agent("  - builtin: current_time\n  - {python: 'a:b', require_approval: always}\n")
    )
    assert [(t.kind, t.config, t.require_approval) for t in definition.tools] == [
        ("builtin", "current_time", "never"),
        ("python", "a:b", "always"),
    ]
