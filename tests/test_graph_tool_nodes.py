"""The graph's ``file_search`` and ``mcp`` nodes, against chatkitd's vector stores and a real MCP server.

The handbook is uploaded through the SDK; the MCP server is the ``mcp``
package's, on loopback, stopped and started again mid-conversation. The
workflows run on the offline scripted model; the conversation goes over HTTP
with a client secret, as a browser's would.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest

from tests.support.harness import deploy_yaml
from tests.support.mcp import McpServerProcess

FACT = "The expense code for team offsites is ZX-4417."
HANDBOOK = (
    "# Staff handbook\n\nLaptops are replaced every three years.\n\n" + FACT + "\n\nVisitors wear a badge."
)

SEARCH_GRAPH = """
id: {id}
provider: {{type: scripted, script: [{{steps: [{{text: "{{{{ instructions }}}}"}}]}}]}}
nodes:
  - {{id: start, type: start, next: search}}
  - id: search
    type: file_search
    vector_store_ids: ["{store_id}", vs_not_in_this_project]
    max_num_results: 2
    next: found
  - id: found
    type: if_else
    conditions: [{{when: "input.results.size() > 0", next: answer}}]
    else: nothing
  - id: answer
    type: agent
    instructions: "{{{{ input.results[0].text }}}} [{{{{ input.results[0].number }}}}]"
    next: done
  - {{id: nothing, type: end, output: '"The handbook does not say."'}}
  - {{id: done, type: end}}
"""


def trace_of(client: Any, thread_id: str) -> dict[str, Any]:
    [newest, *_] = client.get(f"/chatkit/traces?thread_id={thread_id}", cast_to=object)["data"]
    return client.get(f"/chatkit/traces/{newest['id']}", cast_to=object)


def node_span(client: Any, thread_id: str, name: str) -> dict[str, Any]:
    [span] = [s for s in trace_of(client, thread_id)["spans"] if s["name"] == name]
    return span["data"]["data"]


@pytest.fixture
def handbook(client):
    store = client.vector_stores.create(name="Staff handbook")
    uploaded = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=("handbook.md", io.BytesIO(HANDBOOK.encode())), poll_interval_ms=50
    )
    assert uploaded.status == "completed", uploaded.last_error
    return store.id, uploaded.id


def test_file_search_node_answers_from_the_store_with_a_citation(server, client, chat_for, user, handbook):
    store_id, file_id = handbook
    workflow_id = f"search-{uuid.uuid4().hex[:8]}"
    server.run(deploy_yaml(server.platform, SEARCH_GRAPH.format(id=workflow_id, store_id=store_id)))
    chat = chat_for(user, workflow={"id": workflow_id})

    stream = chat.create("expense code for team offsites")
    [answer] = stream.done_items("assistant_message")
    [part] = answer["content"]
    # The passage came out of the store: the graph's own text holds no fact.
    assert FACT in part["text"] and part["text"].endswith("[1]")
    [annotation] = part["annotations"]
    assert annotation["source"]["type"] == "file" and annotation["source"]["filename"] == "handbook.md"
    assert annotation["source"]["group"] == file_id and annotation["index"] == len(part["text"])
    search = node_span(client, stream.thread_id, "file_search search")
    assert search["hits"] >= 1
    assert search["output"]["query"] == "expense code for team offsites"
    assert search["output"]["results"][0]["file_id"] == file_id
    # The store of another project (here: none) is never searched, and says so in the trace.
    assert search["unknown_vector_store_ids"] == ["vs_not_in_this_project"]


def test_file_search_node_with_nothing_found_takes_the_else_branch(server, chat_for, user, handbook):
    store_id, _ = handbook
    workflow_id = f"search-{uuid.uuid4().hex[:8]}"
    server.run(deploy_yaml(server.platform, SEARCH_GRAPH.format(id=workflow_id, store_id=store_id)))
    chat = chat_for(user, workflow={"id": workflow_id})
    assert chat.create("zzzqqq xylophone").text() == "The handbook does not say."


MCP_GRAPH = """
id: {id}
nodes:
  - {{id: start, type: start, next: call}}
  - id: call
    type: mcp
    server: {server}
    tool: {tool}
    input: {arguments}
    next: check
  - id: check
    type: if_else
    conditions: [{{when: "input.is_error", next: failed, label: error}}]
    else: done
  - {{id: failed, type: end, output: '"Failed: " + input.output_text'}}
  - {{id: done, type: end, output: '"Result: " + input.output_text'}}
"""


def deploy_mcp_graph(server: Any, tool: str, arguments: str, **config: Any) -> str:
    workflow_id = f"mcp-graph-{uuid.uuid4().hex[:8]}"
    text = MCP_GRAPH.format(
        id=workflow_id, server=json.dumps(config), tool=tool, arguments=json.dumps(arguments)
    )
    server.run(deploy_yaml(server.platform, text))
    return workflow_id


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_mcp_node_calls_the_tool_with_cel_arguments_and_env_headers(
    server, client, chat_for, user, transport, monkeypatch
):
    secret = "Bearer graph-" + uuid.uuid4().hex[:8]
    monkeypatch.setenv("CRM_TOKEN", secret)
    with McpServerProcess(transport, EXPECTED_AUTHORIZATION=secret) as crm:
        config = {"server_label": "crm", "url": crm.url, "headers": {"Authorization": "env:CRM_TOKEN"}}
        adding = deploy_mcp_graph(server, "add", "{'a': 2, 'b': size(workflow.input_as_text)}", **config)
        stream = chat_for(user, workflow={"id": adding}).create("four")
        assert stream.text() == "Result: 6"
        call = node_span(client, stream.thread_id, "mcp call")
        assert call["arguments"] == {"a": 2, "b": 4} and call["server"] == "crm"
        assert call["output"] == {"output_text": "6", "output_parsed": {"result": 6}, "is_error": False}

        who = deploy_mcp_graph(server, "whoami", "{}", **config)
        stream = chat_for(user, workflow={"id": who}).create("who am I")
        assert stream.text() == "Result: authorized"
        assert secret not in json.dumps(trace_of(client, stream.thread_id))


def test_mcp_node_failures_are_its_output_and_a_server_that_comes_back_is_used(
    server, client, chat_for, user
):
    crm = McpServerProcess("streamable-http").start()
    try:
        config = {"server_label": "crm", "url": crm.url, "timeout": 5}
        workflow_id = deploy_mcp_graph(server, "lookup_customer", "{'customer_id': 'c7'}", **config)
        chat = chat_for(user, workflow={"id": workflow_id})
        first = chat.create("look it up")
        assert first.text() == "Result: Customer c7: Ada Lovelace, gold plan"

        crm.stop()
        down = chat.say(first.thread_id, "again")
        assert not down.of("error")
        assert down.text().startswith("Failed: The tool failed: MCP server 'crm' ")
        assert node_span(client, first.thread_id, "if_else check")["branch"] == "input.is_error"

        crm.start()
        back = chat.say(first.thread_id, "once more")
        assert back.text() == "Result: Customer c7: Ada Lovelace, gold plan"
    finally:
        crm.stop()

    failing = deploy_mcp_graph(server, "broken", "{}", server_label="crm", url=crm.url)
    with crm:
        stream = chat_for(user, workflow={"id": failing}).create("break it")
    assert stream.text() == "Failed: Error executing tool broken: the CRM is down for maintenance"


@pytest.mark.parametrize(
    ("node", "words"),
    [
        (
            "{id: n, type: mcp, tool: delete, server: {server_label: crm, url: 'http://127.0.0.1:9/mcp', "
            "allowed_tools: [add]}, next: e}",
            "calls 'delete', which the server's allowed_tools leave out",
        ),
        ("{id: n, type: mcp, tool: add, server: {server_label: crm}, next: e}", "server"),
        (
            "{id: n, type: mcp, tool: add, server: {server_label: crm, url: 'http://x/mcp'}, "
            "input: '{', next: e}",
            "",
        ),
        ("{id: n, type: file_search, vector_store_ids: [], next: e}", "vector_store_ids"),
        ("{id: n, type: file_search, vector_store_ids: [vs_1], input: 'nope.x', next: e}", "nope"),
    ],
)
def test_bad_tool_nodes_are_refused_at_deploy_naming_the_node(node, words):
    from chatkitd.errors import InvalidRequest
    from chatkitd.workflows.definitions import parse_yaml
    from chatkitd.workflows.graph.spec import parse_graph

    definition = parse_yaml(
        f"id: g\nnodes:\n  - {{id: s, type: start, next: n}}\n  - {node}\n  - {{id: e, type: end}}\n"
    )
    with pytest.raises(InvalidRequest) as refused:
        parse_graph(definition)
    assert "'n'" in refused.value.message and words in refused.value.message, refused.value.message


def approve_or_reject(chat: Any, stream: Any, decision: str) -> Any:
    [card] = stream.done_items("widget")
    action = card["widget"]["confirm" if decision == "approve" else "cancel"]["action"]
    return chat.stream("threads.custom_action", thread_id=stream.thread_id, item_id=card["id"], action=action)


def test_mcp_node_requiring_approval_waits_on_the_approvals_card(server, client, chat_for, user):
    with McpServerProcess("streamable-http") as crm:
        config = {"server_label": "crm", "url": crm.url, "require_approval": {"delete_customer": "always"}}
        workflow_id = deploy_mcp_graph(server, "delete_customer", "{'customer_id': 'c9'}", **config)
        chat = chat_for(user, workflow={"id": workflow_id})

        asked = chat.create("delete c9")
        [card] = asked.done_items("widget")
        shown = json.dumps(card["widget"])
        assert "Run delete_customer?" in shown and "Tool: delete_customer on crm" in shown
        assert '\\"customer_id\\": \\"c9\\"' in shown
        assert not asked.done_items("assistant_message")  # nothing ran yet

        approved = approve_or_reject(chat, asked, "approve")
        assert approved.text() == "Result: Deleted customer c9"
        assert node_span(client, asked.thread_id, "approval answered")["decision"] == "approved"

        rejected = approve_or_reject(chat, chat.create("delete c9 again"), "reject")
        assert rejected.text() == "Failed: The user rejected this call to delete_customer; it did not run."


AGENT_TOOL_GRAPH = """
id: {id}
provider:
  type: scripted
  script:
    - when: email
      steps:
        - call: {{name: send_email, arguments: {{to: ada@example.com, subject: Invoice}}}}
        - text: "Result: {{{{ tool_output }}}}"
nodes:
  - {{id: start, type: start, next: mail}}
  - id: mail
    type: agent
    tools:
      - python: tests.workflows_data.approval_tools:send_email
        require_approval: always
    next: after
  - {{id: after, type: end, output: '"Then: " + input.output_text'}}
"""


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_an_agent_nodes_tool_needing_approval_pauses_the_graph(server, chat_for, user, decision):
    workflow_id = f"agent-tool-{uuid.uuid4().hex[:8]}"
    server.run(deploy_yaml(server.platform, AGENT_TOOL_GRAPH.format(id=workflow_id)))
    chat = chat_for(user, workflow={"id": workflow_id})
    asked = chat.create("email Ada the invoice")
    [card] = asked.done_items("widget")
    assert "Tool: send_email" in json.dumps(card["widget"])
    assert not asked.done_items("assistant_message")

    resumed = approve_or_reject(chat, asked, decision)
    said = [c["text"] for item in resumed.done_items("assistant_message") for c in item["content"]]
    if decision == "approve":
        assert said == ["Result: Sent 'Invoice' to ada@example.com."]
    else:
        assert len(said) == 1 and said[0].startswith("Result: The user rejected this call to send_email")
    # The graph went on after the agent: the end node saw its output (and said nothing more,
    # since the run had spoken).
    assert not resumed.of("error")


ACTION_GRAPH = """
id: {id}
actions: {{calc.add: call}}
nodes:
  - {{id: start, type: start, next: hello}}
  - {{id: hello, type: end, output: '"Ready."'}}
  - id: call
    type: mcp
    server: {{server_label: calc, url: "{url}", require_approval: never}}
    tool: add
    input: "{{'a': int(input.a), 'b': int(input.b)}}"
    next: shown
  - id: shown
    type: end
    output: '{{"type": "Card", "children": [{{"type": "Text", "value": "Sum: " + input.output_text}}]}}'
"""


def test_a_widget_action_runs_an_mcp_tool_streamed_or_at_once(server, client, chat_for, user):
    """An action can run a tool: the graph's action leads to an mcp node, with the payload as arguments."""
    with McpServerProcess("streamable-http") as calc:
        workflow_id = f"mcp-action-{uuid.uuid4().hex[:8]}"
        server.run(deploy_yaml(server.platform, ACTION_GRAPH.format(id=workflow_id, url=calc.url)))
        chat = chat_for(user, workflow={"id": workflow_id})
        first = chat.create("hi")
        at_once = chat.call(
            "threads.sync_custom_action",
            thread_id=first.thread_id,
            action={"type": "calc.add", "payload": {"a": 2, "b": 3}},
        )
        assert at_once.get("updated_item") is None  # no widget sent it: nothing to replace
        call = node_span(client, first.thread_id, "mcp call")
        assert call["arguments"] == {"a": 2, "b": 3} and call["output"]["output_text"] == "5"

        streamed = chat.stream(
            "threads.custom_action",
            thread_id=first.thread_id,
            action={"type": "calc.add", "payload": {"a": 4, "b": 5}},
        )
        assert not streamed.of("error")
        # The end node's output is a widget, so the chat shows it as one.
        [card] = streamed.done_items("widget")
        assert card["widget"]["children"][0]["value"] == "Sum: 9"
        assert not streamed.done_items("assistant_message")
