"""Graph workflows end to end on the scripted model, over the conversation endpoint: every node kind.

``NODE_TESTS`` names the test of each kind in ``chatkitd.workflows.graph.kinds``;
``test_every_node_kind_has_a_test`` fails when a kind is added without one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkitd.workflows.graph.kinds import NODE_KINDS
from tests import test_graph_tool_nodes
from tests.support.harness import deploy_yaml

TOUR = (Path(__file__).parent / "workflows_data" / "graph_tour.yaml").read_text()


@pytest.fixture(scope="module")
def tour(server):
    server.run(deploy_yaml(server.platform, TOUR))


@pytest.fixture
def chat(tour, chat_for, user):
    return chat_for(user, workflow={"id": "graph-tour", "state_variables": {"plan": "gold"}})


def texts(stream):
    return [c["text"] for item in stream.done_items("assistant_message") for c in item["content"]]


def latest_trace(client, thread_id):
    [latest, *_] = client.get(f"/chatkit/traces?thread_id={thread_id}", cast_to=object)["data"]
    return client.get(f"/chatkit/traces/{latest['id']}", cast_to=object)


def trace_spans(client, thread_id):
    """Node spans by name ("<kind> <id>"), as their data."""
    spans = latest_trace(client, thread_id)["spans"]
    return {s["name"]: s["data"]["data"] for s in spans if s["kind"] == "custom" and " " in s["name"]}


def test_start_agent_if_else_end_and_hidden_classifier(chat, client):
    stream = chat.create("hello there")
    # The classifier's JSON stays internal: only the answering agent speaks.
    assert texts(stream) == ["You said: hello there"]
    spans = trace_spans(client, stream.thread_id)
    assert spans["start start"]["output"] == {"input_as_text": "hello there"}
    classify = spans["agent classify"]["output"]
    assert classify["output_parsed"] == {"intent": "question", "amount": 0}
    route = spans["if_else route"]
    assert route["branch"] == "else"
    assert [c["result"] for c in route["conditions"]] == [False, False]
    assert spans["graph graph-tour"]["path"] == [
        "start",
        "count",
        "guard",
        "classify",
        "route",
        "answer",
        "done",
    ]
    # The agents' own spans (the SDK's) are in the same trace.
    all_spans = latest_trace(client, stream.thread_id)["spans"]
    assert {"classify", "answer"} <= {s["name"] for s in all_spans if s["kind"] == "agent"}


def test_set_state_persists_for_the_thread_and_session_values_fill_state(chat, client):
    first = chat.create("how many visits")
    assert texts(first) == ["Visits so far: 1; plan gold."]
    second = chat.say(first.thread_id, "and now, visits?")
    assert texts(second) == ["Visits so far: 2; plan gold."]
    spans = trace_spans(client, first.thread_id)
    graph = spans["graph graph-tour"]
    assert graph["state_before"]["visits"] == 1 and graph["state"]["visits"] == 2
    assert spans["set_state count"]["assigned"] == {"visits": 2, "attempts": 0}


def test_guardrails_fail_edge_and_end_output(chat, client):
    stream = chat.create("my card is 4111 1111 1111 1111")
    assert texts(stream) == ["I cannot help with personal data here."]
    guard = trace_spans(client, stream.thread_id)["guardrails guard"]
    assert guard["branch"] == "fail"
    assert guard["output"]["failures"] == [{"check": "pii", "detected": {"CREDIT_CARD": 1}}]


def test_while_transform_and_iteration_state(chat, client):
    stream = chat.create("loop please")
    assert texts(stream) == ["Looped 3 times."]
    spans = trace_spans(client, stream.thread_id)
    assert spans["transform summary"]["result"] == {"attempts": 3}
    path = spans["graph graph-tour"]["path"]
    assert path.count("loop") == 4 and path.count("bump") == 3


def approval_card(stream):
    [card] = stream.done_items("widget")
    return card, {
        "Approve": card["widget"]["confirm"]["action"],
        "Reject": card["widget"]["cancel"]["action"],
    }


def answer(chat, thread_id, card, action):
    return chat.post("threads.custom_action", thread_id=thread_id, item_id=card["id"], action=action)


def test_user_approval_pauses_and_resumes_once(chat, client):
    asked = chat.create("refund please")
    card, actions = approval_card(asked)
    # The approvals core's card, as tool approvals show it.
    assert card["widget"]["children"][0]["value"] == "Refund 40 dollars?"
    assert actions["Approve"]["type"] == "chatkitd.approval"
    assert texts(asked) == []
    # A reload shows the question still waiting.
    items = chat.call("items.list", thread_id=asked.thread_id, order="asc")["data"]
    assert items[-1]["widget"] == card["widget"]
    answered = chat.stream(
        "threads.custom_action", thread_id=asked.thread_id, item_id=card["id"], action=actions["Approve"]
    )
    [replaced] = answered.of("thread.item.replaced")
    badge, caption = replaced["item"]["widget"]["children"][-1]["children"]
    assert badge["label"] == "Approved" and caption["value"].startswith(f"Approved by {chat.session.user}, ")
    assert texts(answered) == ["Done: your plan is now refunded."]
    again = answer(chat, asked.thread_id, card, actions["Reject"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "approval_already_answered"
    # The answer, who gave it and the branch taken are in the resumed run's trace.
    spans = trace_spans(client, asked.thread_id)
    assert spans["approval answered"]["decision"] == "approved"
    assert spans["approval answered"]["answered_by"] == chat.session.user
    assert spans["user_approval approve"]["branch"] == "approve"
    assert spans["user_approval approve"]["output"]["approved"] is True
    # The thread keeps what set_state assigned after the approval.
    later = chat.say(asked.thread_id, "which plan?")
    assert texts(later) == ["Visits so far: 2; plan refunded."]


def test_user_approval_reject(chat):
    asked = chat.create("refund please")
    card, actions = approval_card(asked)
    answered = chat.stream(
        "threads.custom_action", thread_id=asked.thread_id, item_id=card["id"], action=actions["Reject"]
    )
    assert texts(answered) == ["The refund was not made."]
    # Answered once: the first answer takes the run.
    again = answer(chat, asked.thread_id, card, actions["Approve"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "approval_already_answered"


def test_a_new_message_abandons_a_pending_approval(chat):
    asked = chat.create("refund please")
    card, actions = approval_card(asked)
    moved_on = chat.say(asked.thread_id, "never mind")
    [cancelled] = moved_on.of("thread.item.replaced")
    assert cancelled["item"]["widget"]["children"][-1]["children"][0]["label"] == "Not answered"
    late = answer(chat, asked.thread_id, card, actions["Approve"])
    assert late.status_code == 409 and late.json()["error"]["code"] == "approval_cancelled"


def test_note_never_runs(chat, client):
    stream = chat.create("hello")
    assert "memo" not in trace_spans(client, stream.thread_id)["graph graph-tour"]["path"]


NODE_TESTS = {
    "start": test_start_agent_if_else_end_and_hidden_classifier,
    "agent": test_start_agent_if_else_end_and_hidden_classifier,
    "if_else": test_start_agent_if_else_end_and_hidden_classifier,
    "end": test_guardrails_fail_edge_and_end_output,
    "note": test_note_never_runs,
    "while": test_while_transform_and_iteration_state,
    "transform": test_while_transform_and_iteration_state,
    "set_state": test_set_state_persists_for_the_thread_and_session_values_fill_state,
    "user_approval": test_user_approval_pauses_and_resumes_once,
    "guardrails": test_guardrails_fail_edge_and_end_output,
    "file_search": test_graph_tool_nodes.test_file_search_node_answers_from_the_store_with_a_citation,
    "mcp": test_graph_tool_nodes.test_mcp_node_calls_the_tool_with_cel_arguments_and_env_headers,
}


def test_every_node_kind_has_a_test():
    assert sorted(NODE_KINDS) == sorted(NODE_TESTS), "a node kind was added without a test in NODE_TESTS"
