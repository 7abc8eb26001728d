"""An agent workflow over the real conversation endpoint: what a browser sees, and what is kept."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from chatkitd.store.keys import ensure_project
from tests.conftest import ADMIN_KEY
from tests.support.chat import error_of, user_input
from tests.support.harness import deploy_yaml

SCRIPTED = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()


@pytest.fixture
def agent_chat(server, chat_for):
    server.run(deploy_yaml(server.platform, SCRIPTED))

    def make(user: str, **workflow):
        return chat_for(user, workflow={"id": "scripted-support", **workflow})

    return make


def test_client_tool_round_trip_and_model_title(client, agent_chat, user):
    chat = agent_chat(user, state_variables={"customer": "Ada"})
    first = chat.create("Where am I? locate me")
    [call] = first.done_items("client_tool_call")
    assert (call["name"], call["arguments"], call["status"]) == (
        "get_location",
        {"precision": "city"},
        "pending",
    )
    resumed = chat.stream(
        "threads.add_client_tool_output", thread_id=first.thread_id, result={"city": "Lyon"}
    )
    assert resumed.text() == 'You are in {"city": "Lyon"} (script-a).'
    # The title came from the workflow's model, not the offline fallback.
    [updated] = first.of("thread.updated")
    assert updated["thread"]["title"] == "Weather in Paris"
    items = client.beta.chatkit.threads.list_items(first.thread_id, order="asc").data
    assert [i.type for i in items] == [
        "chatkit.user_message",
        "chatkit.client_tool_call",
        "chatkit.assistant_message",
    ]
    assert items[1].status == "completed" and items[1].name == "get_location"
    assert client.beta.chatkit.threads.retrieve(first.thread_id).title == "Weather in Paris"


def test_feedback_in_chat_shows_on_the_trace(server, agent_chat, user):
    chat = agent_chat(user)
    stream = chat.create("hello")
    answer = stream.done_items("assistant_message")[0]["id"]
    chat.call("items.feedback", thread_id=stream.thread_id, item_ids=[answer], kind="negative")
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    listing = httpx2.get(
        f"{server.base_url}/v1/chatkit/traces", params={"thread_id": stream.thread_id}, headers=headers
    ).json()
    trace = httpx2.get(
        f"{server.base_url}/v1/chatkit/traces/{listing['data'][0]['id']}", headers=headers
    ).json()
    assert [(f["item_id"], f["kind"]) for f in trace["feedback"]] == [(answer, "negative")]


def test_a_closed_thread_refuses_new_input_with_the_reason(agent_chat, user):
    chat = agent_chat(user)
    stream = chat.create("ok bye")
    assert stream.of("thread.updated")[-1]["thread"]["status"] == {
        "type": "closed",
        "reason": "Resolved, thanks!",
    }
    response = chat.post("threads.add_user_message", thread_id=stream.thread_id, input=user_input("hello?"))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "thread_closed" and "Resolved, thanks!" in error["message"]


def test_a_model_the_workflow_does_not_allow_is_refused(agent_chat, user):
    chat = agent_chat(user)
    stream = chat.stream(
        "threads.create", input=user_input("which model?") | {"inference_options": {"model": "gpt-4o"}}
    )
    [error] = stream.of("error")
    assert error["allow_retry"] is False
    assert error["message"].startswith("Model 'gpt-4o' is not available in workflow 'scripted-support'")
    allowed = chat.stream(
        "threads.create", input=user_input("which model?") | {"inference_options": {"model": "script-b"}}
    )
    assert allowed.text() == "I am script-b"


def test_an_unreachable_model_is_a_clear_error_and_titles_fall_back(server, chat_for, user, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.run(deploy_yaml(server.platform, "id: needs-openai\nmodel: gpt-4.1-mini\n"))
    chat = chat_for(user, workflow={"id": "needs-openai"})
    stream = chat.create("Hello there, how are you today?")
    [error] = stream.of("error")
    assert error["message"] == "This assistant's model is not available right now."
    assert stream.done_items("user_message")  # the user's message is kept

    async def title():
        workflow = await server.platform.workflows.load(chat.session_project, "needs-openai", None)
        return await workflow.title(None, "Hello there", None)

    # No title from the model: the runtime falls back to the offline title.
    chat.session_project = server.run(ensure_project(server.platform.db, "default"))
    assert server.run(title()) is None


MESSY_TITLE = """
id: messy-title
provider:
  type: scripted
  script:
    - when: "^Write a short title"
      steps: [{text: "\\"Refund\\u0000 for\\norder 42\\"\\n"}]
    - steps: [{text: "Sure."}]
"""


def test_a_model_title_is_cleaned_before_it_is_stored(server, client, chat_for, user):
    server.run(deploy_yaml(server.platform, MESSY_TITLE))
    chat = chat_for(user, workflow={"id": "messy-title"})
    stream = chat.create("I want a refund for order 42")
    [updated] = stream.of("thread.updated")
    # One line, no NUL (PostgreSQL cannot store it), no wrapping quotes.
    assert updated["thread"]["title"] == "Refund for order 42"
    assert client.beta.chatkit.threads.retrieve(stream.thread_id).title == "Refund for order 42"
