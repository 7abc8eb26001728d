"""The chat_completions provider over real HTTP, against a local fake OpenAI-compatible server."""

from __future__ import annotations

import httpx2
import pytest
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel

from chatkitd.models.providers import ModelUnavailable, ProviderDefinition, build_model
from chatkitd.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.support.fake_llm import fake_llm
from tests.support.harness import deploy_yaml

WORKFLOW = """
id: compat-{suffix}
name: Compat
instructions: "Be brief with {{{{ customer }}}}."
model: llama3.2
provider:
  type: chat_completions
  base_url: {base_url}
  api_key_env: FAKE_LLM_KEY
tools:
  - builtin: current_time
"""


@pytest.fixture(scope="module")
def llm():
    with fake_llm() as fake:
        yield fake


def test_streaming_text_tools_and_titles_over_http(server, chat_for, user, llm, request, monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-local-test")
    suffix = request.node.callspec.id
    server.run(deploy_yaml(server.platform, WORKFLOW.format(suffix=suffix, base_url=llm.base_url)))
    chat = chat_for(user, workflow={"id": f"compat-{suffix}", "state_variables": {"customer": "Ada"}})
    llm.requests.clear()

    stream = chat.create("hello model")
    deltas = [
        e["update"]["delta"]
        for e in stream.of("thread.item.updated")
        if e["update"]["type"] == "assistant_message.content_part.text_delta"
    ]
    assert deltas == ["Echo: ", "hello ", "model "]
    assert stream.text() == "Echo: hello model "
    first = llm.requests[0]
    assert first["authorization"] == "Bearer sk-local-test"
    assert first["body"]["model"] == "llama3.2" and first["body"]["stream"] is True
    assert first["body"]["messages"][0] == {"role": "system", "content": "Be brief with Ada."}
    # The title was asked of the same model, without streaming.
    assert llm.requests[-1]["body"].get("stream") in (None, False)

    # A tool call, run on the server, then the model's answer from its output.
    second = chat.say(stream.thread_id, "what time is it?")
    [workflow] = second.done_items("workflow")
    assert workflow["workflow"]["tasks"][0]["title"] == "Current time"
    assert second.text().startswith("The time is 20")
    # Two messages in one thread: each got its own item id, none the SDK's placeholder.
    ids = [m["id"] for m in stream.done_items("assistant_message") + second.done_items("assistant_message")]
    assert len(set(ids)) == 2 and "__fake_id__" not in ids
    history = llm.requests[-1]["body"]["messages"]
    assert [m["role"] for m in history] == ["system", "user", "assistant", "user", "assistant", "tool"]

    # Streams ask for token usage, so the trace counts the server's tokens (it reported 11 in, 5 out).
    assert first["body"]["stream_options"] == {"include_usage": True}
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    listing = httpx2.get(
        f"{server.base_url}/v1/chatkit/traces", params={"thread_id": stream.thread_id}, headers=headers
    ).json()
    for summary in listing["data"]:
        trace = httpx2.get(f"{server.base_url}/v1/chatkit/traces/{summary['id']}", headers=headers).json()
        generations = [span for span in trace["spans"] if span["kind"] == "generation"]
        assert generations and all(
            (g["data"]["usage"]["input_tokens"], g["data"]["usage"]["output_tokens"]) == (11, 5)
            for g in generations
        )
    assert len(listing["data"]) == 2


def test_global_endpoint_from_settings():
    settings = Settings(model_base_url="http://127.0.0.1:11434/v1", model="llama3.2")
    model = build_model(None, None, settings)
    assert isinstance(model, OpenAIChatCompletionsModel)
    assert model.model == "llama3.2"
    assert str(model._client.base_url) == "http://127.0.0.1:11434/v1/"


def test_missing_openai_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelUnavailable, match="OPENAI_API_KEY"):
        build_model(ProviderDefinition(type="openai"), "gpt-4.1-mini", Settings())


def test_the_support_agent_example_with_its_client_tool(server, chat_for, user, llm, request, monkeypatch):
    """examples/support-agent.yaml, pointed at the fake server: a client tool over Chat Completions."""
    from pathlib import Path

    example = (Path(__file__).parents[1] / "examples" / "support-agent.yaml").read_text()
    suffix = request.node.callspec.id
    text = example.replace("id: support-agent", f"id: support-{suffix}").replace(
        "model: gpt-4.1-mini\n",
        f"model: gpt-4.1-mini\nprovider: {{type: chat_completions, base_url: '{llm.base_url}'}}\n",
    )
    server.run(deploy_yaml(server.platform, text))
    chat = chat_for(
        user, workflow={"id": f"support-{suffix}", "state_variables": {"customer_name": "Ada", "plan": "pro"}}
    )
    llm.requests.clear()
    first = chat.create("where is the nearest store?")
    [call] = first.done_items("client_tool_call")
    assert (call["name"], call["arguments"]) == ("get_location", {"precision": "city"})
    system = llm.requests[0]["body"]["messages"][0]["content"]
    assert "talking to Ada" in system and "pro plan" in system
    assert llm.requests[0]["body"]["temperature"] == 0.3
    resumed = chat.stream("threads.add_client_tool_output", thread_id=first.thread_id, result="Lyon")
    assert resumed.text() == 'The time is "Lyon". '
    # The model saw its call and the browser's output, tied by the call's id.
    messages = llm.requests[-1]["body"]["messages"]
    tool_call = messages[-2]["tool_calls"][0]
    assert tool_call["function"]["name"] == "get_location"
    assert messages[-1] == {"role": "tool", "tool_call_id": tool_call["id"], "content": '"Lyon"'}
