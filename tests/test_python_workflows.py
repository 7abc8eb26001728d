"""Python workflows: an agent factory, a custom responder, and the examples/ folder."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from chatkitd.context import RequestContext
from chatkitd.errors import InvalidRequest
from chatkitd.workflows.agent import AgentRun, AgentWorkflow
from chatkitd.workflows.definitions import read_deployable
from chatkitd.workflows.deploy import deploy_file

DATA = Path(__file__).parent / "workflows_data"
EXAMPLES = Path(__file__).parents[1] / "examples"


def deploy(server, path: Path, project: str = "default") -> str:
    version, _ = server.run(deploy_file(server.platform.workflows, project, path, only_if_changed=True))
    return version.version


def test_agent_factory_with_state_and_a_server_tool(server, chat_for, user):
    deploy(server, DATA / "python_scripted.py")
    chat = chat_for(user, workflow={"id": "python-scripted", "state_variables": {"customer_name": "Ada"}})
    assert chat.create("hello").text() == "v1: Help Ada."
    stream = chat.create("who am I?")
    assert stream.text() == "You are Ada."
    [workflow] = stream.done_items("workflow")
    assert workflow["workflow"]["tasks"][0]["title"] == "Whoami"


def test_each_python_version_runs_its_own_source(server, chat_for, user, tmp_path):
    source = (DATA / "python_scripted.py").read_text()
    first = tmp_path / "agent_v1.py"
    first.write_text(source.replace('ID = "python-scripted"', 'ID = "python-versions"'))
    assert deploy(server, first) == "1"
    old = chat_for(user, workflow={"id": "python-versions"})
    second = tmp_path / "agent_v2.py"
    second.write_text(first.read_text().replace('LABEL = "v1"', 'LABEL = "v2"'))
    assert deploy(server, second) == "2"
    new = chat_for(user, workflow={"id": "python-versions"})
    assert new.create("hi").text().startswith("v2:")
    assert old.create("hi").text().startswith("v1:")


def test_custom_responder_has_full_control(server, chat_for, user):
    version = deploy(server, DATA / "custom_responder.py")
    chat = chat_for(user, workflow={"id": "custom-responder"})
    assert chat.create("quiet please").text() == f"QUIET PLEASE! (v{version})"


def test_the_examples_deploy_and_build(server, monkeypatch):
    # Building the agent makes a client but never calls it.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-used")
    assert read_deployable(EXAMPLES / "support-agent.yaml").id == "support-agent"
    assert deploy(server, EXAMPLES / "support-agent.yaml", "examples")
    assert deploy(server, EXAMPLES / "python_agent.py", "examples")

    async def build(workflow_id: str):
        from chatkitd.store.keys import ensure_project

        project_id = await ensure_project(server.platform.db, "examples")
        workflow = await server.platform.workflows.load(project_id, workflow_id, None)
        assert isinstance(workflow, AgentWorkflow)
        return await workflow.build_agent(
            AgentRun({"customer_name": "Ada", "plan": "pro"}, "gpt-4.1-mini", RequestContext(project_id)),
            None,
        )

    support = server.run(build("support-agent"))
    run = SimpleNamespace(context=SimpleNamespace(state_variables={"customer_name": "Ada", "plan": "pro"}))
    instructions = support.instructions(run, support)
    assert "talking to Ada" in instructions and "pro plan" in instructions
    assert [t.name for t in support.tools] == ["close_thread", "current_time", "get_location"]
    python_agent = server.run(build("python-agent"))
    assert python_agent.model == "gpt-4.1-mini"
    assert support.model.model == "gpt-4.1-mini"
    assert [t.name for t in python_agent.tools] == ["order_status", "close_thread"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "id: x\nmodel: [1, 2]\n", "model"),
        ("bad.yaml", "id: 'has spaces'\n", "id"),
        ("bad.yaml", "id: x\ntools: [{builtin: a, python: 'b:c'}]\n", "exactly one"),
        ("bad.py", "NAME = 'no id'\n", "ID ="),
        ("bad.txt", "id: x\n", ".yaml or .py"),
    ],
)
def test_invalid_definitions_are_refused_clearly(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidRequest, match=message):
        read_deployable(path)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("broken.py", "ID = 'broken'\nimport no_such_module_here\n", "ModuleNotFoundError"),
        ("empty.py", "ID = 'empty'\n", "neither build_agent nor WORKFLOW"),
        ("provider.py", "ID = 'p'\nPROVIDER = {'type': 'ollama'}\n", "PROVIDER.type: Input should be"),
        ("models.py", "ID = 'm'\nMODELS = 'gpt-4.1'\n", "setting: MODELS: Input should be a valid list"),
        ("tools.yaml", "id: tools\ntools: [{builtin: rm_rf}]\n", "Unknown built-in tool 'rm_rf'"),
    ],
)
def test_a_file_that_does_not_load_is_not_deployed(server, tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidRequest, match=message):
        server.run(deploy_file(server.platform.workflows, "default", path))
