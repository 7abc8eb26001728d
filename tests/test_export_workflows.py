"""An Agent Builder export deployed unchanged, chatted with over real HTTP on a fake Chat Completions model.

The export (``workflows_data/agent_builder_export.py``, written in the export's
shape) has a PII guardrail, a classifier whose JSON drives an if/else, and two
answering agents. The model is ``tests.support.fake_llm`` over loopback, so
nothing here has an OpenAI key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chatkitd.cli import main
from chatkitd.workflows.deploy import deploy_file
from tests.conftest import ADMIN_KEY
from tests.support.chat import Chat, Stream, new_session
from tests.support.fake_llm import fake_llm
from tests.support.servers import start_server

EXPORT = Path(__file__).parent / "workflows_data" / "agent_builder_export.py"
WF_ID = "wf_6f1d2c3b4a5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [])


def reply(body: dict[str, Any]) -> dict[str, Any]:
    messages = body["messages"]
    system = _text(messages[0]["content"]) if messages[0]["role"] in ("system", "developer") else ""
    users = [_text(m["content"]) for m in messages if m["role"] == "user"]
    if system.startswith("Classify"):
        return {"text": json.dumps({"topic": "billing" if "invoice" in users[-1] else "other"})}
    who = "Billing" if "billing" in system else "General"
    return {"text": f"{who}: {users[-1]} ({len(users)} user messages)"}


@pytest.fixture(scope="module")
def setup(database_url, tmp_path_factory):
    with fake_llm(reply=reply) as fake:
        data_dir = tmp_path_factory.mktemp("export")
        with start_server(database_url, data_dir, ADMIN_KEY, model_base_url=fake.base_url) as server:
            version, _ = server.run(
                deploy_file(server.platform.workflows, "default", EXPORT, workflow_id=None, version=3)
            )
            assert (version.workflow_id, version.version) == (WF_ID, "3")
            yield server, fake


@pytest.fixture
def chat(setup, user):
    server, _ = setup
    with server.sdk(ADMIN_KEY) as sdk:
        # The integrator's backend sends the Agent Builder id and version, unchanged.
        session = new_session(sdk, user, workflow={"id": WF_ID, "version": "3"})
    with Chat(server, session.client_secret) as chat:
        yield chat


def texts(stream):
    return [c["text"] for item in stream.done_items("assistant_message") for c in item["content"]]


def test_two_turns_stream_the_agents_with_the_threads_history(chat, setup):
    _, fake = setup
    first = chat.create("Where is my invoice?")
    # The classifier's JSON stays internal; the billing agent's answer streams as deltas.
    assert [t.strip() for t in texts(first)] == ["Billing: Where is my invoice? (1 user messages)"]
    deltas = [e for e in first.of("thread.item.updated") if e["update"]["type"].endswith("text_delta")]
    assert len(deltas) > 3
    second = chat.say(first.thread_id, "And my refund?")
    assert [t.strip() for t in texts(second)] == ["General: And my refund? (2 user messages)"]
    # The general agent's request carried the first turn: the user's question and the answer.
    general = [r["body"] for r in fake.requests if "general" in _text(r["body"]["messages"][0]["content"])][
        -1
    ]
    said = [(m["role"], _text(m.get("content")).strip()) for m in general["messages"]]
    assert ("user", "Where is my invoice?") in said
    assert ("assistant", "Billing: Where is my invoice? (1 user messages)") in said


def test_the_guardrail_runs_offline_and_its_output_is_said(chat):
    stream = chat.create("my card is 4111 1111 1111 1111")
    [text] = texts(stream)
    assert json.loads(text) == {"failed": True, "failures": [{"guardrail_name": "Contains PII"}]}


def test_the_exports_trace_is_recorded(chat, setup):
    server, _ = setup
    stream = chat.create("Where is my invoice?")
    with server.sdk(ADMIN_KEY) as sdk:
        [trace] = sdk.get(f"/chatkit/traces?thread_id={stream.thread_id}", cast_to=object)["data"]
        full = sdk.get(f"/chatkit/traces/{trace['id']}", cast_to=object)
    agents = sorted(s["name"] for s in full["spans"] if s["kind"] == "agent")
    assert agents == ["Billing", "Triage"]
    assert trace["workflow"] == {"id": WF_ID, "version": "3"}


def test_cli_deploys_the_export_unchanged_with_no_openai_key(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    CliRunner().invoke(main, ["migrate"], env=env, catch_exceptions=False)
    result = CliRunner().invoke(main, ["workflows", "deploy", str(EXPORT), "--id", "wf_support"], env=env)
    assert result.exit_code == 0, result.output
    assert "Deployed wf_support version 1 to project 'default'.\n" in result.output


def test_a_tool_that_cannot_run_on_the_provider_is_named_at_deploy(tmp_path):
    interpreter = (
        'CodeInterpreterTool(tool_config={"type": "code_interpreter", "container": {"type": "auto"}})'
    )
    source = EXPORT.read_text()
    source = source.replace('name="General",', f'name="General",\n    tools=[{interpreter}],')
    source = source.replace("from agents import Agent,", "from agents import CodeInterpreterTool, Agent,")
    path = tmp_path / "export.py"
    path.write_text(source)
    env = {"CHATKITD_DATA_DIR": str(tmp_path), "CHATKITD_MODEL_BASE_URL": "http://127.0.0.1:9/v1"}
    CliRunner().invoke(main, ["migrate"], env=env, catch_exceptions=False)
    result = CliRunner().invoke(main, ["workflows", "deploy", str(path)], env=env)
    assert result.exit_code != 0
    assert (
        "these tools cannot run on the configured model provider (chat_completions): "
        "agent 'General': CodeInterpreterTool" in result.output
    ), result.output


def test_the_runner_hook_serves_runner_run_and_leaves_other_calls(setup):
    # Guards the one reach into the Agents SDK's experimental runner API: Runner.run must reach
    # the installed hook (an export's turn), and outside a turn the SDK's own runner must run.
    import asyncio

    from agents import Agent, Runner

    from chatkitd.compat.agents import runner_hook_installed
    from chatkitd.models.scripted import ScriptedModel
    from chatkitd.workflows import export_runner

    export_runner.install()
    assert runner_hook_installed(export_runner.serve)
    agent = Agent(name="plain", model=ScriptedModel([{"steps": [{"text": "from the SDK"}]}]))

    class Turn:
        async def run_agent(self, runner, agent, input, options):
            return "served by the turn"

    async def both():
        plain = await Runner.run(agent, "hi")
        export_runner.CURRENT.set(Turn())
        return plain.final_output, await Runner.run(agent, "hi")

    assert asyncio.run(both()) == ("from the SDK", "served by the turn")


def test_hosted_tools_map_to_chatkitds_own_on_another_provider(tmp_path):
    from agents import Agent, FunctionTool, HostedMCPTool, WebSearchTool

    from chatkitd.settings import Settings
    from chatkitd.workflows import hosted_tools
    from chatkitd.workflows.environment import RunEnvironment

    settings = Settings(data_dir=tmp_path, model_base_url="http://127.0.0.1:9/v1")
    env = RunEnvironment(settings, None)  # type: ignore[arg-type]
    # With no web search back end configured, the tool is named at deploy, with the reason.
    [problem] = hosted_tools.unsupported([Agent(name="A", tools=[WebSearchTool()])], env)
    assert problem.startswith("agent 'A': WebSearchTool (web_search has no back end")
    settings = Settings(
        data_dir=tmp_path,
        model_base_url="http://127.0.0.1:9/v1",
        web_search_backend="searxng",
        searxng_url="http://127.0.0.1:9",
    )
    env = RunEnvironment(settings, None)  # type: ignore[arg-type]
    mcp = HostedMCPTool(
        tool_config={"type": "mcp", "server_label": "crm", "server_url": "http://127.0.0.1:9/mcp"}
    )
    agent = Agent(name="A", tools=[WebSearchTool(), mcp])
    assert hosted_tools.unsupported([agent], env) == []
    adapted = hosted_tools.adapt(agent, env)
    assert [type(t) for t in adapted.tools] == [FunctionTool]
    assert [s.name for s in adapted.mcp_servers] == ["crm"]
    assert agent.tools[0].__class__ is WebSearchTool  # the export's own agent is left as it was


def test_other_workflow_input_fields_come_from_the_sessions_state_variables(setup, user, tmp_path):
    """The migration guide's claim: `WorkflowInput` fields besides `input_as_text` are state variables."""
    server, fake = setup
    source = EXPORT.read_text().replace(
        "class WorkflowInput(BaseModel):\n    input_as_text: str\n",
        "class WorkflowInput(BaseModel):\n    input_as_text: str\n    customer_tier: str\n",
    )
    source = source.replace('"text": workflow["input_as_text"]', '"text": workflow["customer_tier"]')
    assert "customer_tier: str" in source and 'workflow["customer_tier"]' in source
    path = tmp_path / "tiered.py"
    path.write_text(source)
    server.run(deploy_file(server.platform.workflows, "default", path, workflow_id="wf_tiered"))

    def first_turn(state_variables: dict[str, Any] | None) -> Stream:
        with server.sdk(ADMIN_KEY) as sdk:
            session = new_session(sdk, user, workflow={"id": "wf_tiered", "state_variables": state_variables})
        with Chat(server, session.client_secret) as chat:
            return chat.create("Where is my invoice?")

    first_turn({"customer_tier": "gold"})
    asked = [_text(m["content"]) for m in fake.requests[-1]["body"]["messages"] if m["role"] == "user"]
    assert asked[-1] == "gold"

    [missing] = first_turn(None).of("error")
    assert missing["message"] == (
        "Workflow 'wf_tiered' needs these state variables: customer_tier (Field required)."
    )
    [wrong_type] = first_turn({"customer_tier": 3}).of("error")
    assert "customer_tier (Input should be a valid string)" in wrong_type["message"]
