"""Agent workflows end to end on the offline scripted model, through the real conversation endpoint.

Each test talks to ``POST /v1/chatkit/conversation`` with a session's client
secret, as a browser does, so chatkitd's ``ConversationServer`` (request
checks, locked and closed threads, titling, tracing) runs around every turn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chat import Stream, error_of, user_input
from tests.support.harness import deploy_yaml

SCRIPTED = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()
STATE = {"customer": "Ada", "plan": "gold"}


@pytest.fixture
def agent(server, chat_for):
    """``agent(user, **session_options)``: a Chat on a session of the scripted support workflow."""
    server.run(deploy_yaml(server.platform, SCRIPTED))

    def make(user: str, **options):
        workflow = {"id": "scripted-support", "state_variables": STATE, **options.pop("workflow", {})}
        return chat_for(user, workflow=workflow, **options)

    return make


def texts(stream: Stream) -> list[str]:
    return [c["text"] for item in stream.done_items("assistant_message") for c in item["content"]]


def stored(chat, thread_id: str) -> list[dict]:
    return chat.call("items.list", thread_id=thread_id, order="asc", limit=100)["data"]


def test_text_streams_as_deltas_and_is_stored(agent, user):
    chat = agent(user)
    stream = chat.create("hello there")
    deltas = [
        e["update"]["delta"]
        for e in stream.of("thread.item.updated")
        if e["update"]["type"] == "assistant_message.content_part.text_delta"
    ]
    assert "".join(deltas) == "You said: hello there"
    assert len(deltas) == 4
    [message] = stream.done_items("assistant_message")
    assert message["content"][0]["text"] == "You said: hello there"
    assert [i["id"] for i in stored(chat, stream.thread_id)] == [i["id"] for i in stream.done_items()]


def test_reasoning_tool_task_and_annotation(agent, user):
    chat = agent(user)
    stream = chat.create("what is the weather?")
    [workflow] = stream.done_items("workflow")
    # The thought and the tool's task share one workflow item; their order depends on
    # how far the run gets ahead of chatkit's converter, so it is not asserted.
    by_type = {task["type"]: task for task in workflow["workflow"]["tasks"]}
    assert by_type["thought"]["content"] == "The user wants the weather, so I check the time first."
    assert by_type["custom"]["title"] == "Current time"
    assert by_type["custom"]["status_indicator"] == "complete"
    assert len(workflow["workflow"]["tasks"]) == 2
    assert stream.text().startswith("It is sunny. Checked at 20")
    [annotation] = [
        e["update"]["annotation"]
        for e in stream.of("thread.item.updated")
        if e["update"]["type"] == "assistant_message.content_part.annotation_added"
    ]
    assert annotation["source"]["url"] == "https://example.com/weather"
    kinds = [item["type"] for item in stored(chat, stream.thread_id)]
    assert kinds == ["user_message", "workflow", "assistant_message"]


def test_client_tool_call_then_resume_with_output(agent, user):
    chat = agent(user)
    stream = chat.create("locate me")
    [call] = stream.done_items("client_tool_call")
    assert (call["name"], call["arguments"], call["status"]) == (
        "get_location",
        {"precision": "city"},
        "pending",
    )
    assert not stream.done_items("assistant_message")
    resumed = chat.stream("threads.add_client_tool_output", thread_id=stream.thread_id, result="Lyon")
    assert texts(resumed) == ['You are in "Lyon" (script-a).']
    items = stored(chat, stream.thread_id)
    assert [i["type"] for i in items] == ["user_message", "client_tool_call", "assistant_message"]
    assert items[1]["status"] == "completed" and items[1]["output"] == "Lyon"
    # The call is answered: a second output for it is refused, not run.
    again = chat.post("threads.add_client_tool_output", thread_id=stream.thread_id, result="Paris")
    assert again.status_code == 422 and error_of(again)["code"] == "invalid_item"


def test_a_task_group_left_open_by_a_client_tool_is_finished_when_the_run_resumes(agent, user):
    """A server tool (a task) then a client tool: chatkit stores the open task group, and
    finishes it on resume; that used to fail the resumed run (a second insert of the item,
    and a naive minus an aware time)."""
    chat = agent(user)
    stream = chat.create("think first, then ask where I am")
    [call] = stream.done_items("client_tool_call")
    assert call["name"] == "get_location" and not stream.done_items("workflow")
    resumed = chat.stream("threads.add_client_tool_output", thread_id=stream.thread_id, result="Lyon")
    assert resumed.of("error") == []
    [workflow] = resumed.done_items("workflow")
    assert {task["type"] for task in workflow["workflow"]["tasks"]} == {"thought", "custom"}
    assert workflow["workflow"]["summary"]["duration"] >= 0
    assert len(texts(resumed)) == 1  # and the run answers
    items = stored(chat, stream.thread_id)
    assert [i["type"] for i in items] == ["user_message", "workflow", "client_tool_call", "assistant_message"]
    assert [i for i in items if i["type"] == "workflow"][0]["workflow"]["summary"] is not None


def test_history_reaches_the_model(agent, user):
    chat = agent(user)
    first = chat.create("first message")
    assert texts(chat.say(first.thread_id, "second message")) == ["You said: second message"]


def test_state_variables_reach_instructions_and_tools(agent, user):
    chat = agent(user)
    assert texts(chat.create("show your instructions")) == ["You help Ada on the gold plan."]
    assert texts(chat.create("what plan am I on?")) == ['Your plan is "gold".']


def test_model_choice_among_allowed_models(agent, user):
    chat = agent(user)
    assert texts(chat.create("which model are you?")) == ["I am script-a"]
    picked = chat.create("which model are you?", inference_options={"model": "script-b"})
    assert texts(picked) == ["I am script-b"]


def test_a_model_outside_the_allowed_list_is_refused(agent, user):
    chat = agent(user)
    stream = chat.create("which model are you?", inference_options={"model": "gpt-5"})
    [error] = stream.of("error")
    assert error["code"] == "custom" and error["allow_retry"] is False
    assert "Model 'gpt-5' is not available in workflow 'scripted-support'" in error["message"]
    assert "script-a, script-b" in error["message"]
    assert not stream.done_items("assistant_message")


def test_tool_choice_forces_a_tool(agent, user):
    chat = agent(user)
    forced = chat.create("hello", inference_options={"tool_choice": {"id": "current_time"}})
    [workflow] = forced.done_items("workflow")
    assert [t["title"] for t in workflow["workflow"]["tasks"]] == ["Current time"]
    assert texts(forced) == ["You said: hello"]
    unknown = chat.create("hello", inference_options={"tool_choice": {"id": "no_such_tool"}})
    [error] = unknown.of("error")
    assert "has no tool 'no_such_tool'" in error["message"]


def test_workflow_closes_its_thread_and_the_runtime_refuses_more_input(agent, user):
    chat = agent(user)
    stream = chat.create("bye now")
    # The status changes first; the title follows in its own thread.updated.
    statuses = [e["thread"]["status"] for e in stream.of("thread.updated")]
    assert statuses[0] == {"type": "closed", "reason": "Resolved, thanks!"}
    thread = chat.call("threads.get_by_id", thread_id=stream.thread_id)
    assert thread["status"] == {"type": "closed", "reason": "Resolved, thanks!"}
    refused = chat.post("threads.add_user_message", thread_id=stream.thread_id, input=user_input("hi?"))
    assert refused.status_code == 422 and error_of(refused)["code"] == "thread_closed"


def test_workflow_locks_its_thread_and_the_runtime_refuses_a_retry(agent, user):
    chat = agent(user)
    stream = chat.create("hold on please")
    statuses = [e["thread"]["status"] for e in stream.of("thread.updated")]
    assert statuses[0] == {"type": "locked", "reason": "An agent will take over."}
    [message] = stream.done_items("user_message")
    retry = chat.post("threads.retry_after_item", thread_id=stream.thread_id, item_id=message["id"])
    assert retry.status_code == 422
    assert (
        error_of(retry)["code"] == "thread_locked"
        and "An agent will take over." in error_of(retry)["message"]
    )


def test_model_error_becomes_a_retryable_error_event_and_the_thread_is_titled(agent, user):
    chat = agent(user)
    stream = chat.create("please fail now")
    [error] = stream.of("error")
    assert error["allow_retry"] is True
    assert [i["type"] for i in stored(chat, stream.thread_id)] == ["user_message"]
    # A thread whose first run failed still gets its (offline) title.
    [updated] = stream.of("thread.updated")
    assert updated["thread"]["title"] == "please fail now"
    assert chat.call("threads.get_by_id", thread_id=stream.thread_id)["title"] == "please fail now"


def test_title_comes_from_the_model(agent, user):
    stream = agent(user).create("Is it raining in Paris?")
    [updated] = stream.of("thread.updated")
    assert updated["thread"]["title"] == "Weather in Paris"


def test_no_title_when_the_session_turns_titling_off(agent, user):
    chat = agent(user, chatkit_configuration={"automatic_thread_titling": {"enabled": False}})
    stream = chat.create("Is it raining in Paris?")
    assert stream.of("thread.updated") == []
    assert "title" not in chat.call("threads.get_by_id", thread_id=stream.thread_id)


def test_a_failing_title_model_gives_the_offline_title(server, chat_for, user):
    text = """
id: title-fails
provider:
  type: scripted
  script:
    - when: "^Write a short title"
      steps: [{error: "the model is down"}]
    - steps: [{text: "fine"}]
"""
    server.run(deploy_yaml(server.platform, text))
    stream = chat_for(user, workflow={"id": "title-fails"}).create("Is it raining in Paris?")
    assert stream.text() == "fine"
    [updated] = stream.of("thread.updated")
    assert updated["thread"]["title"] == "Is it raining in Paris?"


def test_a_yaml_file_can_name_a_python_factory(server, chat_for, user):
    text = "id: via-factory\nfactory: tests.workflows_data.python_scripted:build_agent\n"
    server.run(deploy_yaml(server.platform, text))
    chat = chat_for(user, workflow={"id": "via-factory", "state_variables": {"customer_name": "Bo"}})
    assert texts(chat.create("hello")) == ["v1: Help Bo."]


def test_resuming_after_a_client_tool_keeps_the_chosen_model(agent, user):
    chat = agent(user)
    stream = chat.create("locate me", inference_options={"model": "script-b"})
    resumed = chat.stream("threads.add_client_tool_output", thread_id=stream.thread_id, result="Oslo")
    assert texts(resumed) == ['You are in "Oslo" (script-b).']
