"""Tool approvals over HTTP: the run pauses on a card, the answer resumes it, refusals are 4xx."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.chat import Chat, Stream, error_of, parse_sse
from tests.support.harness import deploy_yaml

APPROVALS = (Path(__file__).parent / "workflows_data" / "approvals.yaml").read_text()


@pytest.fixture(scope="module")
def deployed(server):
    server.run(deploy_yaml(server.platform, APPROVALS))


@pytest.fixture
def chat(deployed, chat_for, user) -> Chat:
    return chat_for(user, workflow={"id": "approvals"})


def card_of(stream: Stream) -> dict[str, Any]:
    [card] = stream.done_items("widget")
    return card


def answer(chat: Chat, thread_id: str, card: dict[str, Any], decision: str, **extra: Any):
    action = card["widget"]["confirm" if decision == "approve" else "cancel"]["action"]
    action["payload"] |= extra
    return chat.post("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=action)


def answered(chat: Chat, thread_id: str, card: dict[str, Any], decision: str, **extra: Any) -> Stream:
    response = answer(chat, thread_id, card, decision, **extra)
    assert response.status_code == 200, response.text
    return Stream(response, parse_sse(response.text))


def texts_of(widget: dict[str, Any]) -> list[str]:
    found = []
    for child in widget.get("children", []):
        for key in ("value", "label"):
            if isinstance(child.get(key), str):
                found.append(child[key])
        found += texts_of(child)
    return found


def test_the_run_pauses_on_a_card_showing_what_will_run(chat):
    stream = chat.create("email Ada the invoice")
    card = card_of(stream)
    assert not stream.done_items("assistant_message")
    shown = "\n".join(texts_of(card["widget"]))
    assert "Run send_email?" in shown
    assert "Tool: send_email" in shown
    assert '"to": "ada@example.com"' in shown and '"subject": "Invoice"' in shown
    assert card["widget"]["confirm"]["label"] == "Approve"
    assert card["widget"]["cancel"]["label"] == "Reject"
    assert card["widget"]["confirm"]["action"]["type"] == "chatkitd.approval"

    # A reload shows the pending card, buttons and all.
    items = chat.call("items.list", thread_id=stream.thread_id, order="asc")["data"]
    assert [item["type"] for item in items] == ["user_message", "widget"]
    assert items[1]["widget"] == card["widget"]


def test_approving_runs_the_tool_and_the_run_goes_on(chat):
    stream = chat.create("email Ada the invoice")
    card = card_of(stream)
    resumed = answered(chat, stream.thread_id, card, "approve")
    [replaced] = resumed.of("thread.item.replaced")
    shown = texts_of(replaced["item"]["widget"])
    assert "Approved" in shown
    assert any(text.startswith(f"Approved by {chat.session.user},") for text in shown)
    assert "confirm" not in replaced["item"]["widget"]
    assert resumed.text() == "Result: Sent 'Invoice' to ada@example.com."

    items = chat.call("items.list", thread_id=stream.thread_id, order="asc")["data"]
    # The tool runs only now, its task shown as it does.
    assert [item["type"] for item in items] == ["user_message", "widget", "workflow", "assistant_message"]
    assert items[1]["widget"] == replaced["item"]["widget"]


def test_rejecting_tells_the_model_and_the_tool_never_runs(chat):
    stream = chat.create("email Ada the invoice")
    resumed = answered(chat, stream.thread_id, card_of(stream), "reject", reason="Not this one")
    text = resumed.text()
    assert text.startswith("Result: The user rejected this call to send_email; it did not run.")
    assert "The user said: Not this one" in text
    assert "Sent" not in text
    shown = texts_of(resumed.of("thread.item.replaced")[0]["item"]["widget"])
    assert "Rejected" in shown


def test_the_answer_who_and_when_are_in_the_trace(chat, client, server):
    stream = chat.create("email Ada the invoice")
    answered(chat, stream.thread_id, card_of(stream), "approve")
    traces = client.get(f"/chatkit/traces?thread_id={stream.thread_id}", cast_to=object)
    assert isinstance(traces, dict)
    paused, resumed = sorted(traces["data"], key=lambda t: t["started_at"])
    detail = client.get(f"/chatkit/traces/{resumed['id']}", cast_to=object)
    assert isinstance(detail, dict)
    [span] = [s for s in detail["spans"] if s["name"] == "approval answered"]
    data = span["data"]["data"]
    assert data["decision"] == "approved"
    assert data["answered_by"] == chat.session.user
    assert data["tool"] == "send_email" and data["arguments"]
    function_spans = [s for s in detail["spans"] if s["kind"] == "function"]
    assert function_spans and "Sent 'Invoice'" in str(function_spans[0]["data"])
    first = client.get(f"/chatkit/traces/{paused['id']}", cast_to=object)
    assert isinstance(first, dict)
    assert [s["name"] for s in first["spans"] if s["kind"] == "custom" and "approval" in s["name"]] == [
        "approval requested"
    ]


def test_two_calls_at_once_wait_for_both_answers(chat):
    stream = chat.create("write to both of them")
    first, second = stream.done_items("widget")
    assert "ada@example.com" in str(first["widget"]) and "bob@example.com" in str(second["widget"])
    waiting = answered(chat, stream.thread_id, first, "approve")
    # One answer of two: the card says so, and the run waits for the other.
    assert [e["item"]["id"] for e in waiting.of("thread.item.replaced")] == [first["id"]]
    assert not waiting.done_items("assistant_message")
    resumed = answered(chat, stream.thread_id, second, "reject")
    text = resumed.text()
    assert text.startswith("Both answered; the last result: The user rejected this call to send_email")
    items = chat.call("items.list", thread_id=stream.thread_id, order="asc")["data"]
    assert [i["type"] for i in items].count("assistant_message") == 1


def test_answering_twice_is_a_409(chat):
    stream = chat.create("email Ada the invoice")
    card = card_of(stream)
    answered(chat, stream.thread_id, card, "approve")
    again = answer(chat, stream.thread_id, card, "reject")
    assert again.status_code == 409
    error = error_of(again)
    assert error["code"] == "approval_already_answered"
    assert error["param"] == "params.action.payload.approval_id"
    assert "approved by" in error["message"]


def test_two_answers_at_once_one_wins(chat):
    stream = chat.create("email Ada the invoice")
    card = card_of(stream)
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(
            pool.map(lambda d: answer(chat, stream.thread_id, card, d), ["approve", "reject"] * 2)
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409]
    items = chat.call("items.list", thread_id=stream.thread_id, order="asc")["data"]
    assert [item["type"] for item in items].count("assistant_message") == 1


def test_someone_elses_approval_is_a_404(chat, chat_for):
    stream = chat.create("email Ada the invoice")
    card = card_of(stream)
    stranger = chat_for("someone_else", workflow={"id": "approvals"})
    # Their own thread, with this card's approval id: not theirs.
    own = stranger.create("hello")
    action = card["widget"]["confirm"]["action"]
    response = stranger.post("threads.custom_action", thread_id=own.thread_id, item_id=None, action=action)
    assert response.status_code == 404
    assert error_of(response)["param"] == "params.action.payload.approval_id"
    # The owner's thread: not visible to them at all.
    response = answer(stranger, stream.thread_id, card, "approve")
    assert response.status_code == 404
    # And the owner can still answer.
    assert answered(chat, stream.thread_id, card, "approve").text().startswith("Result: Sent")


def test_a_new_message_cancels_the_pending_approval(chat):
    stream = chat.create("email Ada the invoice")
    card = card_of(stream)
    moved_on = chat.say(stream.thread_id, "never mind")
    [replaced] = moved_on.of("thread.item.replaced")
    assert replaced["item"]["id"] == card["id"]
    assert "Not answered" in texts_of(replaced["item"]["widget"])
    assert moved_on.text() == "You said: never mind"
    late = answer(chat, stream.thread_id, card, "approve")
    assert late.status_code == 409
    assert error_of(late)["code"] == "approval_cancelled"


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"decision": "approve"}, "params.action.payload.approval_id"),
        ({"approval_id": "apr_x", "decision": "maybe"}, "params.action.payload.decision"),
        ({"approval_id": "apr_x", "decision": "reject", "reason": 5}, "params.action.payload.reason"),
        ("approve", "params.action.payload"),
    ],
)
def test_a_malformed_answer_is_a_400_naming_the_param(chat, payload, param):
    stream = chat.create("email Ada the invoice")
    action = {"type": "chatkitd.approval", "payload": payload}
    response = chat.post("threads.custom_action", thread_id=stream.thread_id, item_id=None, action=action)
    assert response.status_code == 400
    assert error_of(response)["param"] == param


def test_an_unknown_approval_is_a_404(chat):
    stream = chat.create("email Ada the invoice")
    action = {"type": "chatkitd.approval", "payload": {"approval_id": "apr_nope", "decision": "approve"}}
    response = chat.post("threads.custom_action", thread_id=stream.thread_id, item_id=None, action=action)
    assert response.status_code == 404


def test_sync_custom_action_cannot_answer(chat):
    stream = chat.create("email Ada the invoice")
    action = card_of(stream)["widget"]["confirm"]["action"]
    response = chat.post(
        "threads.sync_custom_action", thread_id=stream.thread_id, item_id=None, action=action
    )
    assert response.status_code == 400
    assert error_of(response)["param"] == "type"


def test_other_messages_do_not_pause(chat):
    stream = chat.create("hello")
    assert stream.text() == "You said: hello"
    assert not stream.done_items("widget")


def test_the_pending_pause_is_kept_server_side_and_never_shown_to_clients(chat, client, server):
    """The thread's internal keys (``approvals.PENDING_KEY``) stay in the database: no protocol
    read, streamed thread event, REST or admin read of the thread carries them."""
    from sqlalchemy import select

    from chatkitd import approvals
    from chatkitd.store import tables

    stream = chat.create("email Ada the invoice")
    card_of(stream)
    thread_id = stream.thread_id

    async def stored() -> str:
        async with server.platform.db.read() as conn:
            query = select(tables.threads.c.data).where(tables.threads.c.id == thread_id)
            return str(await conn.scalar(query))

    # The key is there (so the reads below could show it)...
    assert approvals.PENDING_KEY in server.run(stored())
    # ...and no read a client or the console makes shows it.
    seen = [
        stream.response.text,  # thread.created / thread.updated events
        chat.post("threads.get_by_id", thread_id=thread_id).text,
        chat.post("threads.list", limit=20).text,
        json.dumps(client.get(f"/chatkit/threads/{thread_id}", cast_to=object)),
        json.dumps(client.get("/chatkit/threads", cast_to=object)),
        json.dumps(client.get(f"/chatkit/admin/threads/{thread_id}/items", cast_to=object)),
    ]
    for text in seen:
        assert thread_id in text
        assert approvals.PENDING_KEY not in text, text
