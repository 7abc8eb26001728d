"""Widget actions reach agent workflows: an action runs the agent's tool with its payload, or asks the agent.

Over the conversation endpoint with a client secret, on the offline scripted model.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.harness import deploy_yaml

AGENT = """
id: {id}
provider:
  type: scripted
  script:
    - when: "^\\\\[The user chose"
      steps: [{{text: "Noted: {{{{ user }}}}"}}]
    - when: "^hello"
      steps: [{{text: "Hi"}}, {{text: "Result: {{{{ tool_output }}}}"}}]
    - steps: [{{text: "You said: {{{{ user }}}}"}}]
tools:
  - python: tests.workflows_data.approval_tools:send_email
    require_approval: always
  - builtin: close_thread
actions:
  mail.send: {{tool: send_email}}
  desk.close: {{tool: close_thread}}
  desk.more: {{}}
"""


@pytest.fixture
def agent_id(server) -> str:
    workflow_id = f"actions-{uuid.uuid4().hex[:8]}"
    server.run(deploy_yaml(server.platform, AGENT.format(id=workflow_id)))
    return workflow_id


def trace_spans(client: Any, thread_id: str) -> list[dict[str, Any]]:
    [newest, *_] = client.get(f"/chatkit/traces?thread_id={thread_id}", cast_to=object)["data"]
    return client.get(f"/chatkit/traces/{newest['id']}", cast_to=object)["spans"]


def test_an_action_runs_its_tool_with_the_payload_and_the_agent_answers(agent_id, chat_for, user, client):
    chat = chat_for(user, workflow={"id": agent_id})
    first = chat.create("hello")
    assert first.text() == "Hi"
    payload = {"to": "ada@example.com", "subject": "Invoice"}
    answered = chat.stream(
        "threads.custom_action", thread_id=first.thread_id, action={"type": "mail.send", "payload": payload}
    )
    assert not answered.of("error")
    # The click is the consent: no approval card, the tool ran and the agent read its output.
    assert not answered.done_items("widget")
    assert answered.text() == "Result: Sent 'Invoice' to ada@example.com."
    [span] = [s for s in trace_spans(client, first.thread_id) if s["name"] == "action tool send_email"]
    assert span["data"]["data"]["output"] == "Sent 'Invoice' to ada@example.com."


def test_an_action_without_a_tool_asks_the_agent(agent_id, chat_for, user):
    chat = chat_for(user, workflow={"id": agent_id})
    first = chat.create("hello")
    answered = chat.stream(
        "threads.custom_action",
        thread_id=first.thread_id,
        action={"type": "desk.more", "payload": {"topic": "billing"}},
    )
    assert (
        answered.text()
        == 'Noted: [The user chose the action \'desk.more\' with this payload: {"topic": "billing"}]'
    )


def test_a_sync_action_runs_the_tool_only(agent_id, chat_for, user, client):
    chat = chat_for(user, workflow={"id": agent_id})
    first = chat.create("hello")
    response = chat.call(
        "threads.sync_custom_action",
        thread_id=first.thread_id,
        action={"type": "mail.send", "payload": {"to": "bob@example.com", "subject": "Receipt"}},
    )
    assert response.get("updated_item") is None
    [span] = [s for s in trace_spans(client, first.thread_id) if s["name"] == "action tool send_email"]
    assert span["data"]["data"]["output"] == "Sent 'Receipt' to bob@example.com."
    # An action that asks the agent streams its answer, so it is refused here, naming why.
    refused = chat.post(
        "threads.sync_custom_action", thread_id=first.thread_id, action={"type": "desk.more", "payload": {}}
    )
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "params.action.type"


def test_an_action_can_close_the_thread(agent_id, chat_for, user):
    chat = chat_for(user, workflow={"id": agent_id})
    first = chat.create("hello")
    chat.stream(
        "threads.custom_action",
        thread_id=first.thread_id,
        action={"type": "desk.close", "payload": {"reason": "Solved"}},
    )
    thread = chat.call("threads.get_by_id", thread_id=first.thread_id)
    assert thread["status"] == {"type": "closed", "reason": "Solved"}


def test_an_unknown_action_is_a_400_naming_the_actions(agent_id, chat_for, user):
    chat = chat_for(user, workflow={"id": agent_id})
    first = chat.create("hello")
    refused = chat.post(
        "threads.custom_action", thread_id=first.thread_id, action={"type": "nope", "payload": {}}
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["param"] == "params.action.type" and "desk.close, desk.more, mail.send" in error["message"]


def test_an_action_naming_no_server_tool_is_refused_at_deploy(client):
    import openai

    text = AGENT.format(id="bad-actions").replace("{tool: close_thread}", "{tool: get_location}")
    with pytest.raises(openai.BadRequestError) as refused:
        client.post(
            "/chatkit/admin/workflows", body={"filename": "a.yaml", "definition": text}, cast_to=object
        )
    assert "Action 'desk.close' runs 'get_location', which is not one of the agent's server tools" in str(
        refused.value
    )
