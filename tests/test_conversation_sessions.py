"""The session's knobs, as a client secret meets them: auth, rate limit, isolation, history, titling."""

from __future__ import annotations

import time

import pytest

from chatkitd.store import keys
from tests.support.chat import DELETED, Chat, error_of, user_input


def test_unknown_and_missing_secrets_are_401(server):
    with Chat(server, "ck_secret_not-a-real-one") as chat:
        response = chat.post("threads.list")
        assert response.status_code == 401
        assert error_of(response)["code"] == "invalid_client_secret"
        bare = chat.http.post(
            "/v1/chatkit/conversation",
            json={"type": "threads.list", "params": {}},
            headers={"Authorization": ""},
        )
        assert bare.status_code == 401


def test_cancelled_secret_is_refused_on_the_next_request(client, user, chat_for):
    chat = chat_for(user)
    assert chat.post("threads.list").status_code == 200
    client.beta.chatkit.sessions.cancel(chat.session.id)
    response = chat.post("threads.list")
    assert response.status_code == 401
    assert error_of(response)["code"] == "session_cancelled"


def test_expired_secret_is_refused(user, chat_for):
    chat = chat_for(user, expires_after={"anchor": "created_at", "seconds": 1})
    # expires_at is whole seconds, rounded up: wait for it, not for a fixed time.
    time.sleep(max(0.0, chat.session.expires_at - time.time()) + 0.2)
    response = chat.post("threads.list")
    assert response.status_code == 401
    assert error_of(response)["code"] == "session_expired"


def test_rate_limit_answers_429_with_retry_after(user, chat_for):
    chat = chat_for(user, rate_limits={"max_requests_per_1_minute": 3})
    assert [chat.post("threads.list").status_code for _ in range(3)] == [200, 200, 200]
    response = chat.post("threads.list")
    assert response.status_code == 429
    assert error_of(response)["type"] == "rate_limit_error"
    assert 1 <= int(response.headers["retry-after"]) <= 60


def _requests_on(thread_id: str, item_id: str) -> list[tuple[str, dict]]:
    action = {"type": "demo.increment", "payload": {"count": 0}}
    return [
        ("threads.get_by_id", {"thread_id": thread_id}),
        ("threads.add_user_message", {"thread_id": thread_id, "input": user_input("hi")}),
        ("threads.add_client_tool_output", {"thread_id": thread_id, "result": {}}),
        ("threads.add_structured_input", {"thread_id": thread_id, "item_id": item_id, "input": {}}),
        ("threads.retry_after_item", {"thread_id": thread_id, "item_id": item_id}),
        ("threads.custom_action", {"thread_id": thread_id, "item_id": item_id, "action": action}),
        ("threads.sync_custom_action", {"thread_id": thread_id, "item_id": item_id, "action": action}),
        ("threads.update", {"thread_id": thread_id, "title": "mine now"}),
        ("items.list", {"thread_id": thread_id}),
        ("items.feedback", {"thread_id": thread_id, "item_ids": [item_id], "kind": "positive"}),
    ]


def _assert_all_not_found(chat: Chat, thread_id: str, item_id: str) -> None:
    for kind, params in _requests_on(thread_id, item_id):
        response = chat.post(kind, **params)
        assert response.status_code == 404, (kind, response.text)
        assert error_of(response)["code"] == "not_found", kind
    # A delete is idempotent: it answers as for a thread that never was, and deletes nothing.
    never_was = "cthr_" + "0" * 32
    assert chat.deleted("threads.delete", thread_id=thread_id) == chat.deleted(
        "threads.delete", thread_id=never_was
    )


def test_another_users_thread_is_not_found_for_every_request(server, client, user, chat_for):
    owner = chat_for(user)
    stream = owner.create("show me a widget")
    widget_id = stream.done_items("widget")[0]["id"]

    stranger = chat_for(user + "_other")
    _assert_all_not_found(stranger, stream.thread_id, widget_id)
    assert stranger.call("threads.list")["data"] == []
    # Nothing the stranger tried changed the thread.
    thread = owner.call("threads.get_by_id", thread_id=stream.thread_id)
    assert thread["title"] == "show me a widget" and len(thread["items"]["data"]) == 2


def test_same_user_in_another_project_is_not_found(server, user, chat_for):
    owner = chat_for(user)
    stream = owner.create("show me a widget")
    widget_id = stream.done_items("widget")[0]["id"]
    other_key = server.run(_other_project_key(server))
    other = chat_for(user, sdk=server.sdk(other_key))
    _assert_all_not_found(other, stream.thread_id, widget_id)
    thread = owner.call("threads.get_by_id", thread_id=stream.thread_id)
    assert thread["title"] == "show me a widget" and len(thread["items"]["data"]) == 2


def _admin_key(server) -> str:
    return server.settings.api_key.get_secret_value()


async def _other_project_key(server) -> str:
    token, _ = await keys.create_key(server.platform.db, f"other-{time.time_ns()}")
    return token


def test_history_disabled_shows_only_this_sessions_threads(server, client, user, chat_for):
    before = chat_for(user)
    old_thread = before.create("old news").thread_id
    fresh = chat_for(user, chatkit_configuration={"history": {"enabled": False}})
    assert fresh.call("threads.list")["data"] == []
    assert fresh.post("threads.get_by_id", thread_id=old_thread).status_code == 404
    assert (
        fresh.post("threads.add_user_message", thread_id=old_thread, input=user_input("x")).status_code == 404
    )
    # Deleting a thread outside the session's history answers as for any id, and deletes nothing.
    assert fresh.deleted("threads.delete", thread_id=old_thread) == DELETED
    assert before.call("threads.get_by_id", thread_id=old_thread)["id"] == old_thread
    new_thread = fresh.create("new news").thread_id
    assert [t["id"] for t in fresh.call("threads.list")["data"]] == [new_thread]
    assert fresh.call("threads.get_by_id", thread_id=new_thread)["id"] == new_thread
    # The earlier session, with history on, sees both.
    assert {t["id"] for t in before.call("threads.list")["data"]} == {old_thread, new_thread}


def test_recent_threads_limits_list_and_access(server, client, user, chat_for):
    chat = chat_for(user)
    oldest, middle, newest = (chat.create(f"thread {n}").thread_id for n in range(3))
    limited = chat_for(user, chatkit_configuration={"history": {"recent_threads": 2}})
    assert [t["id"] for t in limited.call("threads.list")["data"]] == [newest, middle]
    assert limited.post("threads.get_by_id", thread_id=oldest).status_code == 404
    assert limited.post("items.list", thread_id=oldest).status_code == 404
    assert limited.call("items.list", thread_id=middle)["data"]
    assert limited.deleted("threads.delete", thread_id=oldest) == DELETED
    assert chat.call("threads.get_by_id", thread_id=oldest)["id"] == oldest


@pytest.mark.parametrize("enabled", [True, False])
def test_automatic_titling(server, client, user, enabled, chat_for):
    config = {"automatic_thread_titling": {"enabled": enabled}}
    chat = chat_for(user, chatkit_configuration=config)
    long_text = "Could you please explain how photosynthesis works in desert plants"
    stream = chat.create(long_text)
    updated = stream.of("thread.updated")
    rest_title = client.beta.chatkit.threads.retrieve(stream.thread_id).title
    if enabled:
        assert updated[-1]["thread"]["title"] == "Could you please explain how…"
        assert rest_title == "Could you please explain how…"
        assert len(rest_title) <= 40
    else:
        assert updated == []
        assert rest_title is None
        assert chat.call("threads.get_by_id", thread_id=stream.thread_id).get("title") is None


@pytest.mark.parametrize("status", ["lock", "close"])
def test_locked_and_closed_threads_refuse_input(server, client, user, status, chat_for):
    chat = chat_for(user)
    stream = chat.create(f"please {status} this thread")
    state = {"lock": "locked", "close": "closed"}[status]
    thread = stream.of("thread.updated")[-1]["thread"]
    assert thread["status"] == {"type": state, "reason": f"The demo workflow {state} this thread on request."}
    user_item = stream.done_items("user_message")[0]["id"]
    for kind, params in _requests_on(stream.thread_id, user_item)[1:7]:
        response = chat.post(kind, **params)
        assert response.status_code == 422, (kind, response.text)
        error = error_of(response)
        assert error["code"] == f"thread_{state}"
        assert "on request" in error["message"]
    rest = client.beta.chatkit.threads.retrieve(stream.thread_id)
    assert rest.status.type == state
    # Reading still works.
    assert chat.call("threads.get_by_id", thread_id=stream.thread_id)["status"]["type"] == state


def test_workflow_error_becomes_error_event_and_keeps_the_message(server, client, user, chat_for):
    chat = chat_for(user)
    stream = chat.create("please fail now")
    errors = stream.of("error")
    assert errors == [{"type": "error", "code": "stream.error", "allow_retry": True}]
    items = client.beta.chatkit.threads.list_items(stream.thread_id).data
    assert [(i.type, i.content[0].text) for i in items] == [("chatkit.user_message", "please fail now")]
