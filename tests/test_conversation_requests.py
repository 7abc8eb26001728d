"""Every request type ``openai-chatkit`` defines, against the demo workflow."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from sqlalchemy import select

from chatkitd.store import tables
from tests.support.chat import Chat, error_of, new_session, user_input


@pytest.fixture
def chat(server, client, user):
    chat = Chat(server, new_session(client, user).client_secret)
    yield chat
    chat.close()


def test_get_by_id_lists_and_updates(chat):
    thread_id = chat.create("hello").thread_id
    thread = chat.call("threads.get_by_id", thread_id=thread_id)
    assert thread["id"] == thread_id and thread["title"] == "hello"
    assert [i["type"] for i in thread["items"]["data"]] == ["user_message", "assistant_message"]

    second = chat.create("another").thread_id
    page = chat.call("threads.list", limit=1, order="desc")
    assert [t["id"] for t in page["data"]] == [second] and page["has_more"] is True
    rest = chat.call("threads.list", limit=5, order="desc", after=page["after"])
    assert [t["id"] for t in rest["data"]] == [thread_id] and rest["has_more"] is False

    updated = chat.call("threads.update", thread_id=thread_id, title="Renamed")
    assert updated["title"] == "Renamed"
    assert chat.call("threads.get_by_id", thread_id=thread_id)["title"] == "Renamed"

    items = chat.call("items.list", thread_id=thread_id, order="asc", limit=1)
    assert [i["type"] for i in items["data"]] == ["user_message"] and items["has_more"] is True


def test_delete_thread(chat, client):
    thread_id = chat.create("bye").thread_id
    assert chat.call("threads.delete", thread_id=thread_id) == {}
    response = chat.post("threads.get_by_id", thread_id=thread_id)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    # Idempotent, as chatkit's reference: deleting it again answers the same.
    assert chat.call("threads.delete", thread_id=thread_id) == {}


def test_feedback_is_stored(server, chat):
    stream = chat.create("rate me")
    answer_id = stream.done_items("assistant_message")[0]["id"]
    assert (
        chat.call("items.feedback", thread_id=stream.thread_id, item_ids=[answer_id], kind="negative") == {}
    )

    async def stored():
        async with server.platform.db.read() as conn:
            f = tables.feedback
            rows = await conn.execute(select(f.c.item_id, f.c.kind).where(f.c.thread_id == stream.thread_id))
            return [tuple(r) for r in rows]

    assert server.run(stored()) == [(answer_id, "negative")]
    missing = chat.post("items.feedback", thread_id=stream.thread_id, item_ids=["cthi_nope"], kind="positive")
    assert missing.status_code == 404
    # Found by the fuzz test: no item at all was a 500 (an insert of no rows).
    empty = chat.post("items.feedback", thread_id=stream.thread_id, item_ids=[], kind="positive")
    assert empty.status_code == 400 and error_of(empty)["param"] == "params.item_ids"


def test_client_tool_call_round_trip(chat, client):
    stream = chat.create("use the tool please")
    call = stream.done_items("client_tool_call")[0]
    assert call["status"] == "pending" and call["name"] == "get_client_info"
    resumed = chat.stream(
        "threads.add_client_tool_output", thread_id=stream.thread_id, result={"locale": "fr-FR"}
    )
    assert resumed.text() == 'The client tool get_client_info answered: {"locale": "fr-FR"}'
    items = client.beta.chatkit.threads.list_items(stream.thread_id, order="asc").data
    tool = next(i for i in items if i.type == "chatkit.client_tool_call")
    assert tool.status == "completed"
    assert json.loads(tool.output) == {"locale": "fr-FR"}
    assert json.loads(tool.arguments) == {"fields": ["locale", "time"]}
    # No pending call any more: posting output again is a clean 4xx.
    again = chat.post("threads.add_client_tool_output", thread_id=stream.thread_id, result={})
    assert again.status_code == 422 and error_of(again)["code"] == "invalid_item"


def test_structured_input(chat):
    stream = chat.create("ask me a question")
    question = stream.done_items("structured_input")[0]
    assert [q["id"] for q in question["inputs"]] == ["colour", "name"]
    answered = chat.stream(
        "threads.add_structured_input",
        thread_id=stream.thread_id,
        item_id=question["id"],
        input={"answers": {"colour": {"values": ["green"]}, "name": {"values": ["Ada"]}}},
    )
    replaced = answered.of("thread.item.replaced")[0]["item"]
    assert replaced["status"] == "answered"
    assert answered.text() == "You answered: colour=green; name=Ada"
    # A wrong item is a clean 4xx, not a broken stream.
    user_item = stream.done_items("user_message")[0]["id"]
    wrong = chat.post(
        "threads.add_structured_input", thread_id=stream.thread_id, item_id=user_item, input={"answers": {}}
    )
    assert wrong.status_code == 422 and "not a StructuredInputItem" in error_of(wrong)["message"]


def test_input_for_nothing_pending_is_refused_without_logging_an_error(chat, caplog):
    """A client's mistake is a 422 before the stream starts, not an error with a traceback in the log."""
    stream = chat.create("ask me a question")
    question = stream.done_items("structured_input")[0]["id"]
    user_item = stream.done_items("user_message")[0]["id"]
    caplog.set_level(logging.INFO)
    refused = [
        chat.post("threads.add_client_tool_output", thread_id=stream.thread_id, result={}),
        chat.post(
            "threads.add_structured_input",
            thread_id=stream.thread_id,
            item_id=user_item,
            input={"answers": {}},
        ),
    ]
    answer = {"answers": {"colour": {"values": ["red"]}}}
    chat.stream("threads.add_structured_input", thread_id=stream.thread_id, item_id=question, input=answer)
    refused.append(  # answered already
        chat.post("threads.add_structured_input", thread_id=stream.thread_id, item_id=question, input=answer)
    )
    action = {"type": "demo.increment", "payload": {"count": 0}}
    refused.append(  # actions come from widgets
        chat.post("threads.custom_action", thread_id=stream.thread_id, item_id=user_item, action=action)
    )
    assert [(r.status_code, error_of(r)["code"]) for r in refused] == [(422, "invalid_item")] * 4
    params = [error_of(r)["param"] for r in refused]
    assert params == ["params.thread_id", "params.item_id", "params.item_id", "params.item_id"]
    unknown = chat.post(
        "threads.custom_action", thread_id=stream.thread_id, item_id="cthi_nope", action=action
    )
    assert unknown.status_code == 404
    assert "no pending client tool call" in error_of(refused[0])["message"]
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors, [record.getMessage() for record in errors]


def test_retry_after_item_replaces_the_answer(chat, client):
    stream = chat.create("again")
    user_item = stream.done_items("user_message")[0]["id"]
    first_answer = stream.done_items("assistant_message")[0]["id"]
    retried = chat.stream("threads.retry_after_item", thread_id=stream.thread_id, item_id=user_item)
    assert retried.text() == "Echo: again"
    ids = [i.id for i in client.beta.chatkit.threads.list_items(stream.thread_id, order="asc").data]
    assert len(ids) == 2 and ids[0] == user_item and first_answer not in ids
    wrong = chat.post("threads.retry_after_item", thread_id=stream.thread_id, item_id=ids[1])
    assert wrong.status_code == 422
    missing = chat.post("threads.retry_after_item", thread_id=stream.thread_id, item_id="cthi_missing")
    assert missing.status_code == 404


def test_widget_actions(chat, client):
    stream = chat.create("show me a widget")
    widget = stream.done_items("widget")[0]
    assert widget["widget"]["type"] == "Card"
    action = {"type": "demo.increment", "payload": {"count": 0}}
    clicked = chat.stream(
        "threads.custom_action", thread_id=stream.thread_id, item_id=widget["id"], action=action
    )
    replaced = clicked.of("thread.item.replaced")[0]["item"]
    assert replaced["widget"]["children"][1]["value"] == "Clicked 1 times"
    assert clicked.text() == "Clicked 1 times."

    synced = chat.call(
        "threads.sync_custom_action",
        thread_id=stream.thread_id,
        item_id=widget["id"],
        action={"type": "demo.increment", "payload": {"count": 1}},
    )
    assert synced["updated_item"]["widget"]["children"][1]["value"] == "Clicked 2 times"
    rest_widget = next(
        i for i in client.beta.chatkit.threads.list_items(stream.thread_id).data if i.type == "chatkit.widget"
    )
    assert "Clicked 2 times" in rest_widget.widget
    # An action the demo does not have is a 400 before anything streams, sync or streamed (the
    # streamed one was an error event inside a 200 stream, where every other workflow answers 400).
    for kind in ("threads.sync_custom_action", "threads.custom_action"):
        unknown = chat.post(kind, thread_id=stream.thread_id, item_id=widget["id"], action={"type": "x"})
        assert unknown.status_code == 400 and error_of(unknown)["param"] == "params.action.type", kind
        expected = "Workflow 'demo' has no action 'x' (its actions: demo.increment)."
        assert error_of(unknown)["message"] == expected


def test_task_group_tasks_and_progress(chat, client):
    thought = chat.create("think about it")
    group = thought.done_items("workflow")[0]
    assert [t["type"] for t in group["workflow"]["tasks"]] == ["thought", "custom"]
    updates = [e["update"]["type"] for e in thought.of("thread.item.updated")]
    assert "workflow.task.added" in updates and "workflow.task.updated" in updates

    tasks = chat.create("do a task")
    assert [i["task"]["type"] for i in tasks.done_items("task")] == ["custom", "thought"]

    progress = chat.create("show progress")
    assert [e["text"] for e in progress.of("progress_update")] == [
        "Reading your message",
        "Thinking",
        "Writing the answer",
    ]
    rest = client.beta.chatkit.threads.list_items(thought.thread_id, order="asc").data
    group_item = next(i for i in rest if i.type == "chatkit.task_group")
    assert [t.type for t in group_item.tasks] == ["thought", "custom"]
    assert group_item.tasks[0].heading == "Considering the question"
    task_items = client.beta.chatkit.threads.list_items(tasks.thread_id, order="asc").data
    assert [(i.type, i.task_type) for i in task_items if i.type == "chatkit.task"] == [
        ("chatkit.task", "custom"),
        ("chatkit.task", "thought"),
    ]


def test_state_variables_and_locale_reach_the_workflow(server, client, user):
    session = new_session(client, user, workflow={"id": "demo", "state_variables": {"plan": "pro"}})
    with Chat(server, session.client_secret, headers={"Accept-Language": "fr-FR,fr;q=0.9"}) as chat:
        text = chat.create("what is my state").text()
    assert text == 'State variables: {"plan": "pro"}; locale: fr-FR,fr;q=0.9'


def test_transcribe_is_not_supported(chat):
    audio = base64.b64encode(b"\x00\x01").decode()
    response = chat.post("input.transcribe", audio_base64=audio, mime_type="audio/webm")
    assert response.status_code == 400
    assert error_of(response)["code"] == "transcription_not_supported"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (b"{not json", None, "invalid_json"),
        (b'{"type": "threads.explode", "params": {}}', "type", "invalid_request_type"),
        (b'{"params": {}}', "type", "invalid_request_type"),
        (b'{"type": "threads.get_by_id", "params": {}}', "params.thread_id", "missing"),
        (b'{"type": "threads.list", "params": {"limit": "many"}}', "params.limit", "int_parsing"),
        (b"[]", None, "invalid_json"),
        (b'{"type": "threads.list", "params": {"limit": -1}}', "params.limit", "invalid_limit"),
        (
            b'{"type": "items.list", "params": {"thread_id": "t", "limit": 101}}',
            "params.limit",
            "invalid_limit",
        ),
        (b'{"type": "threads.list", "params": {"after": "cthr_nope"}}', "params.after", "invalid_cursor"),
    ],
)
def test_malformed_bodies_are_400s(chat, body, param, code):
    response = chat.http.post(
        "/v1/chatkit/conversation", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")


def test_missing_input_fields_are_400s(chat):
    response = chat.post("threads.create", input={"content": [{"type": "input_text", "text": "x"}]})
    assert response.status_code == 400
    assert error_of(response)["param"] == "params.input.attachments"


def test_unknown_thread_is_404_before_streaming(chat):
    response = chat.post("threads.add_user_message", thread_id="cthr_nope", input=user_input("hi"))
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_ids_are_long_and_prefixed(chat):
    stream = chat.create("ids")
    assert stream.thread_id.startswith("cthr_") and len(stream.thread_id) == 37
    assert all(i["id"].startswith("cthi_") for i in stream.done_items())


def test_nul_characters_are_400s_not_database_errors(chat):
    thread_id = chat.create("hello").thread_id
    for kind, params, param in [
        ("threads.get_by_id", {"thread_id": "cthr_\x00"}, "params.thread_id"),
        ("threads.update", {"thread_id": thread_id, "title": "a\x00b"}, "params.title"),
        ("threads.add_user_message", {"thread_id": thread_id, "input": user_input("a\x00")}, None),
        ("items.list", {"thread_id": thread_id, "after": "\x00"}, "params.after"),
    ]:
        response = chat.post(kind, **params)
        assert response.status_code == 400, (kind, response.text)
        if param:
            assert error_of(response)["param"] == param
    assert error_of(response)["param"] == "params.after"
