"""``/v1/chatkit/admin/...``: sessions, feedback and protocol items for the admin console."""

from __future__ import annotations

import json

import httpx2

from chatkitd.store.keys import create_key
from tests.conftest import ADMIN_KEY


def admin_get(server, path: str, key: str = ADMIN_KEY, **params) -> httpx2.Response:
    return httpx2.get(server.base_url + path, params=params, headers={"authorization": f"Bearer {key}"})


def converse(server, user: str) -> tuple[dict, str, list[dict]]:
    """A playground session, one exchange, and a thumbs-up: (session, thread_id, events)."""
    session = httpx2.post(server.base_url + "/playground/session", json={"user": user}).json()
    headers = {"authorization": f"Bearer {session['client_secret']}"}
    body = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "hello console"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    response = httpx2.post(
        server.base_url + "/v1/chatkit/conversation", json=body, headers=headers, timeout=30
    )
    events = [json.loads(f[6:]) for f in response.text.split("\n\n") if f.startswith("data: ")]
    thread_id = events[0]["thread"]["id"]
    done = [e["item"] for e in events if e["type"] == "thread.item.done"]
    reply = next(i for i in done if i["type"] == "assistant_message")
    feedback = {
        "type": "items.feedback",
        "params": {"thread_id": thread_id, "item_ids": [reply["id"]], "kind": "positive"},
    }
    assert (
        httpx2.post(server.base_url + "/v1/chatkit/conversation", json=feedback, headers=headers).status_code
        == 200
    )
    return session, thread_id, done


def test_admin_lists_sessions_feedback_and_protocol_items(server, user):
    session, thread_id, done = converse(server, user)

    sessions = admin_get(server, "/v1/chatkit/admin/sessions", user=user).json()
    assert sessions["object"] == "list"
    [listed] = sessions["data"]
    assert listed["id"] == session["id"]
    assert listed["status"] == "active"
    assert listed["client_secret"] != session["client_secret"]  # redacted, never the secret
    assert isinstance(listed["created_at"], int)

    feedback = admin_get(server, "/v1/chatkit/admin/feedback", thread_id=thread_id).json()
    [entry] = feedback["data"]
    assert entry["kind"] == "positive"
    assert entry["user"] == user
    assert entry["item_id"] == done[-1]["id"]

    items = admin_get(server, f"/v1/chatkit/admin/threads/{thread_id}/items", order="asc", limit=50).json()
    assert [i["type"] for i in items["data"]] == [i["type"] for i in done]
    assert items["data"][0]["content"][0]["text"] == "hello console"
    assert items["data"][-1]["content"][0]["text"].startswith("Echo: hello console")
    assert items["has_more"] is False


def test_admin_endpoints_need_an_admin_key_and_keep_to_its_project(server, user):
    _, thread_id, _ = converse(server, user)
    for path in ("/v1/chatkit/admin/sessions", "/v1/chatkit/admin/feedback"):
        response = admin_get(server, path, key="sk-wrong")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
    # A client secret is not an admin key.
    secret = httpx2.post(server.base_url + "/playground/session", json={"user": user}).json()
    assert admin_get(server, "/v1/chatkit/admin/sessions", key=secret["client_secret"]).status_code == 401

    other_key, _ = server.run(create_key(server.platform.db, "other-project"))
    sessions = admin_get(server, "/v1/chatkit/admin/sessions", key=other_key, user=user)
    assert sessions.json()["data"] == []
    feedback = admin_get(server, "/v1/chatkit/admin/feedback", key=other_key, thread_id=thread_id)
    assert feedback.json()["data"] == []
    hidden = admin_get(server, f"/v1/chatkit/admin/threads/{thread_id}/items", key=other_key)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["param"] == "thread_id"


def test_admin_list_limit_is_validated(server):
    response = admin_get(server, "/v1/chatkit/admin/sessions", limit=1000)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "limit"


def test_admin_sessions_feedback_and_traces_page_past_a_cursor(server, user):
    """Each list pages with `after` and says `has_more`; the console pages past 100 rows with it.
    (Before, sessions and feedback answered `has_more: false` whatever lay beyond.)"""
    threads = [converse(server, user)[1] for _ in range(3)]
    first = admin_get(server, "/v1/chatkit/admin/sessions", user=user, limit=2).json()
    assert len(first["data"]) == 2 and first["has_more"] is True
    rest = admin_get(server, "/v1/chatkit/admin/sessions", user=user, limit=2, after=first["last_id"]).json()
    assert len(rest["data"]) == 1 and rest["has_more"] is False
    assert {s["id"] for s in first["data"]}.isdisjoint(s["id"] for s in rest["data"])

    mine = [
        f
        for f in admin_get(server, "/v1/chatkit/admin/feedback", limit=100).json()["data"]
        if f["user"] == user
    ]
    assert len(mine) == 3
    page = admin_get(server, "/v1/chatkit/admin/feedback", limit=1).json()
    assert page["has_more"] is True and page["last_id"].startswith("fb_")
    after = admin_get(server, "/v1/chatkit/admin/feedback", limit=1, after=page["last_id"]).json()
    assert after["data"][0]["id"] != page["data"][0]["id"]

    traces = admin_get(server, "/v1/chatkit/traces", limit=1).json()
    assert traces["has_more"] is True and traces["last_id"] == traces["data"][0]["id"]
    older = admin_get(server, "/v1/chatkit/traces", limit=1, after=traces["last_id"]).json()
    assert older["data"][0]["id"] != traces["last_id"]
    assert threads  # three conversations, three traces at least

    for path, cursor in (
        ("/v1/chatkit/admin/sessions", "cksess_nope"),
        ("/v1/chatkit/admin/feedback", "fb_nope"),
        ("/v1/chatkit/admin/feedback", "fb_99999999"),
        ("/v1/chatkit/traces", "trace_nope"),
    ):
        refused = admin_get(server, path, after=cursor)
        assert refused.status_code == 400, (path, cursor, refused.text)
        assert refused.json()["error"]["param"] == "after"


def test_files_by_id_name_a_page_of_a_stores_files_in_one_request(server, client):
    """``GET /v1/chatkit/admin/files?id=…``: the project's files of those ids, unknown ones left out."""
    ids = [client.files.create(file=(f"n{n}.txt", b"x"), purpose="assistants").id for n in range(3)]
    headers = {"authorization": f"Bearer {ADMIN_KEY}"}
    url = server.base_url + "/v1/chatkit/admin/files"
    asked = {"id": [ids[2], "file-nope", ids[0], ids[0]]}
    page = httpx2.get(url, params=asked, headers=headers).json()
    assert [(f["id"], f["filename"]) for f in page["data"]] == [(ids[2], "n2.txt"), (ids[0], "n0.txt")]
    assert page["has_more"] is False
    for bad in ([], [f"file-{n}" for n in range(101)]):
        refused = httpx2.get(url, params={"id": bad}, headers=headers)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "id"
