"""MCP tools against a real MCP server (the ``mcp`` package) on loopback, over streamable HTTP and SSE.

The workflows run on the offline scripted model; the conversation goes over HTTP
with a client secret, as a browser's would.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from chatkitd.tools.mcp import McpToolConfig
from chatkitd.tools.mcp.config import LITERAL_CREDENTIALS
from tests.support.chat import Chat, Stream, parse_sse
from tests.support.harness import deploy_yaml
from tests.support.mcp import McpServerProcess

SECRET = "Bearer s3cret-" + uuid.uuid4().hex[:8]
SCRIPT = """
    - when: "^tools"
      steps: [{text: "Tools: {{ tools }}"}]
    - when: "^add"
      steps: [{call: {name: add, arguments: {a: 2, b: 3}}}, {text: "Sum: {{ tool_output }}"}]
    - when: "^twice"
      steps:
        - call: {name: add, arguments: {a: 2, b: 3}}
        - call: {name: add, arguments: {a: 4, b: 5}}
        - text: "Sums: {{ tool_output }}"
    - when: "^who"
      steps: [{call: {name: whoami}}, {text: "Whoami: {{ tool_output }}"}]
    - when: "^lookup"
      steps:
        - call: {name: lookup_customer, arguments: {customer_id: c1}}
        - text: "Lookup: {{ tool_output }}"
    - when: "^slow"
      steps: [{call: {name: slow, arguments: {seconds: 5}}}, {text: "Slow: {{ tool_output }}"}]
    - when: "^broken"
      steps: [{call: {name: broken}}, {text: "Broken: {{ tool_output }}"}]
    - when: "^delete"
      steps:
        - call: {name: delete_customer, arguments: {customer_id: c9}}
        - text: "Delete: {{ tool_output }}"
    - when: "^handshakes"
      steps: [{call: {name: handshakes}}, {text: "Handshakes: {{ tool_output }}"}]
    - when: "^grow"
      steps: [{call: {name: grow}}, {text: "Grow: {{ tool_output }}"}]
    - steps: [{text: "You said: {{ user }}"}]
"""


def deploy(server: Any, **mcp: Any) -> str:
    """Deploy a scripted workflow with one `mcp` tool configured as given; returns its id."""
    workflow_id = f"mcp-{uuid.uuid4().hex[:8]}"
    text = f"id: {workflow_id}\nprovider:\n  type: scripted\n  script:{SCRIPT}tools:\n"
    server.run(deploy_yaml(server.platform, text + f"  - mcp: {json.dumps(mcp)}\n"))
    return workflow_id


@pytest.fixture(scope="module", params=["streamable-http", "sse"])
def crm(request) -> Iterator[McpServerProcess]:
    with McpServerProcess(request.param, EXPECTED_AUTHORIZATION=SECRET) as process:
        yield process


@pytest.fixture(scope="module")
def crm_workflow(server, crm) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRM_TOKEN", SECRET)
        yield deploy(
            server,
            server_label="crm",
            url=crm.url,
            headers={"Authorization": "env:CRM_TOKEN"},
            allowed_tools=["add", "whoami", "lookup_customer", "slow", "broken"],
            require_approval="never",
            timeout=2,
        )


@pytest.fixture
def chat(crm_workflow, chat_for, user) -> Chat:
    return chat_for(user, workflow={"id": crm_workflow})


def trace_of(client: Any, thread_id: str) -> dict[str, Any]:
    listed = client.get(f"/chatkit/traces?thread_id={thread_id}", cast_to=object)
    newest = listed["data"][0]["id"]
    detail = client.get(f"/chatkit/traces/{newest}", cast_to=object)
    assert isinstance(detail, dict)
    return detail


def test_tools_are_listed_to_the_model_within_allowed_tools(chat):
    assert chat.create("tools please").text() == "Tools: add, broken, lookup_customer, slow, whoami"


def test_a_tool_is_called_and_its_result_reaches_the_model_and_the_trace(chat, client):
    stream = chat.create("add them")
    assert stream.text() == "Sum: 5"
    trace = trace_of(client, stream.thread_id)
    listing = [s for s in trace["spans"] if s["kind"] == "mcp_tools"]
    assert listing and listing[0]["data"]["server"] == "crm"
    [call] = [s for s in trace["spans"] if s["kind"] == "function"]
    assert call["name"] == "add" and call["data"]["mcp_data"] == {"server": "crm"}
    assert call["error"] is None


def test_the_tools_are_listed_once_per_run_not_before_every_model_call(chat, client):
    # Three model calls (two tool calls, then the answer), one listing: the SDK would list and
    # convert the server's tools before each of them.
    stream = chat.create("twice please")
    assert stream.text() == "Sums: 9"
    spans = trace_of(client, stream.thread_id)["spans"]
    assert [s["kind"] for s in spans].count("function") == 2
    assert [s["kind"] for s in spans].count("mcp_tools") == 1


def test_headers_come_from_the_environment_and_stay_out_of_the_trace(chat, client):
    stream = chat.create("who am I")
    assert stream.text() == "Whoami: authorized"
    secret = SECRET.split(" ")[1]
    assert secret not in json.dumps(trace_of(client, stream.thread_id))


def test_a_tool_that_fails_is_a_tool_error_the_model_sees(chat, client):
    stream = chat.create("broken tool")
    assert stream.text() == "Broken: Error executing tool broken: the CRM is down for maintenance"
    assert not stream.of("error")


def test_a_tool_that_times_out_is_a_tool_error(chat, client):
    stream = chat.create("slow tool")
    assert stream.text() == "Slow: The tool failed: MCP server 'crm' did not answer slow within 2 s."
    [call] = [s for s in trace_of(client, stream.thread_id)["spans"] if s["kind"] == "function"]
    assert call["error"] is not None


def test_a_tool_outside_allowed_tools_cannot_run(chat):
    # The model was never offered it; a model calling it anyway gets an error, not the tool.
    stream = chat.create("delete c9")
    assert "Deleted" not in json.dumps(stream.events)


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_a_server_that_dies_mid_conversation_then_comes_back(server, chat_for, user, client, transport):
    crm = McpServerProcess(transport).start()
    try:
        workflow_id = deploy(server, server_label="crm", url=crm.url, require_approval="never", timeout=5)
        chat = chat_for(user, workflow={"id": workflow_id})
        first = chat.create("lookup the customer")
        assert first.text() == "Lookup: Customer c1: Ada Lovelace, gold plan"

        crm.stop()
        down = chat.say(first.thread_id, "lookup again")
        assert not down.of("error")
        assert down.text().startswith("Lookup: The tool failed: MCP server 'crm' ")
        [call] = [s for s in trace_of(client, first.thread_id)["spans"] if s["kind"] == "function"]
        assert call["error"] is not None

        crm.start()
        back = chat.say(first.thread_id, "lookup once more")
        assert back.text() == "Lookup: Customer c1: Ada Lovelace, gold plan"
    finally:
        crm.stop()


def test_one_connection_serves_every_turn_of_every_thread(server, chat_for, user):
    with McpServerProcess("streamable-http") as crm:
        workflow_id = deploy(server, server_label="crm", url=crm.url, require_approval="never")
        chat = chat_for(user, workflow={"id": workflow_id})
        first = chat.create("handshakes so far?")
        assert first.text() == "Handshakes: 1"
        assert chat.say(first.thread_id, "handshakes now?").text() == "Handshakes: 1"
        assert chat.create("handshakes in a new thread?").text() == "Handshakes: 1"


def test_the_tool_list_is_fetched_again_once_it_is_old(server, chat_for, user):
    with McpServerProcess("streamable-http") as crm:
        age = 8  # long enough for three turns on a loaded machine
        workflow_id = deploy(
            server, server_label="crm", url=crm.url, require_approval="never", tools_cache_seconds=age
        )
        chat = chat_for(user, workflow={"id": workflow_id})
        started = time.monotonic()
        assert "extra" not in chat.create("tools please").text()
        listed = time.monotonic()  # the list was cached between `started` and now
        assert chat.create("grow the list").text() == "Grow: grown"
        assert "extra" not in chat.create("tools please").text()  # still the cached list
        assert time.monotonic() - started < age, "the turns took longer than the cache's age"
        time.sleep(max(0.0, age + 0.2 - (time.monotonic() - listed)))
        assert chat.create("tools please").text().startswith("Tools: add, broken, delete_customer, extra,")


def test_a_server_unreachable_from_the_start_leaves_the_chat_working(server, chat_for, user, client):
    nowhere = McpServerProcess("streamable-http")  # never started: nothing listens on its port
    workflow_id = deploy(server, server_label="gone", url=nowhere.url, require_approval="never", timeout=2)
    chat = chat_for(user, workflow={"id": workflow_id})
    stream = chat.create("tools please")
    assert stream.text() == "Tools: "
    listing = [s for s in trace_of(client, stream.thread_id)["spans"] if s["kind"] == "mcp_tools"]
    assert listing[0]["error"]["message"] == "MCP server unreachable"


def test_an_unset_environment_variable_is_named_in_the_trace(server, crm, chat_for, user, client):
    workflow_id = deploy(
        server, server_label="crm", url=crm.url, headers={"Authorization": "env:NO_SUCH_MCP_TOKEN"}
    )
    stream = chat_for(user, workflow={"id": workflow_id}).create("tools please")
    assert stream.text() == "Tools: "
    [listing] = [s for s in trace_of(client, stream.thread_id)["spans"] if s["kind"] == "mcp_tools"]
    assert "NO_SUCH_MCP_TOKEN (for header Authorization) is not set" in listing["error"]["data"]["error"]


def test_require_approval_per_tool_pauses_only_that_tool(server, crm, chat_for, user):
    workflow_id = deploy(
        server,
        server_label="crm",
        url=crm.url,
        require_approval={"delete_customer": "always", "add": "never"},
    )
    chat = chat_for(user, workflow={"id": workflow_id})
    assert chat.create("add them").text() == "Sum: 5"
    paused = chat.create("delete c9")
    [card] = paused.done_items("widget")
    texts = json.dumps(card["widget"])
    assert "Tool: delete_customer on crm" in texts and '\\"customer_id\\": \\"c9\\"' in texts
    action = card["widget"]["confirm"]["action"]
    response = chat.post(
        "threads.custom_action", thread_id=paused.thread_id, item_id=card["id"], action=action
    )
    assert response.status_code == 200, response.text
    assert Stream(response, parse_sse(response.text)).text() == "Delete: Deleted customer c9"


def test_stdio_for_local_development(server, chat_for, user):
    workflow_id = deploy(
        server,
        server_label="local",
        command=sys.executable,
        args=["-m", "tests.support.mcp_server", "--transport", "stdio"],
        require_approval="never",
        timeout=30,
    )
    chat = chat_for(user, workflow={"id": workflow_id})
    assert chat.create("add them").text() == "Sum: 5"


def test_failures_never_show_the_configurations_secrets(monkeypatch):
    monkeypatch.setenv("CRM_TOKEN", "Bearer t0ps3cret")
    # A literal header value comes only from a Python workflow's HostedMCPTool (YAML refuses it).
    config = McpToolConfig.model_validate(
        {
            "server_label": "crm",
            "url": "https://user:pw@crm.example.com/mcp?key=k3y",
            "headers": {"Authorization": "env:CRM_TOKEN", "X-Api-Key": "literal-key"},
        },
        context=LITERAL_CREDENTIALS,
    )
    text = "failed: Bearer t0ps3cret / literal-key at https://user:pw@crm.example.com/mcp?key=k3y"
    assert config.redact(text) == "failed: [redacted] / [redacted] at https://crm.example.com/mcp"


def test_a_hosted_mcp_tools_configuration_maps_to_this_client():
    from agents import HostedMCPTool

    from chatkitd.tools.mcp import config_from_hosted

    hosted = HostedMCPTool(
        tool_config={
            "type": "mcp",
            "server_label": "crm",
            "server_url": "https://crm.example.com/mcp",
            "authorization": "tok",
            "allowed_tools": {"tool_names": ["lookup_customer"]},
            "require_approval": {"never": {"tool_names": ["lookup_customer"]}},
        }
    )
    config = config_from_hosted(hosted.tool_config)
    assert (config.server_label, config.url, config.resolved_transport) == (
        "crm",
        "https://crm.example.com/mcp",
        "streamable_http",
    )
    assert config.headers == {"Authorization": "Bearer tok"}
    assert config.allowed_tools == ["lookup_customer"]
    assert config.sdk_require_approval() == {"never": {"tool_names": ["lookup_customer"]}}
    with pytest.raises(ValueError, match="runs only on OpenAI's Responses API"):
        config_from_hosted({"server_label": "cal", "connector_id": "connector_googlecalendar"})
