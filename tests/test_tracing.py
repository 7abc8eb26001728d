"""Traces of workflow runs: recorded in chatkitd's database only, readable with an admin key.

Every run of every workflow kind (agents, the built-in demo, Python ``Workflow``
subclasses) is traced, through the real conversation endpoint.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import httpx2
import pytest
from agents import flush_traces
from agents.tracing import get_trace_provider
from agents.tracing.provider import DefaultTraceProvider

from chatkitd.store import keys
from chatkitd.tracing.processor import install
from tests.conftest import ADMIN_KEY
from tests.support.harness import deploy_yaml

SCRIPTED = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()


@pytest.fixture
def run_chat(server, chat_for):
    """``run_chat(user, text, tracing=True, workflow="scripted-support")``: a new thread's events."""
    server.run(deploy_yaml(server.platform, SCRIPTED))

    def run(user: str, text: str, tracing: bool = True, workflow: str = "scripted-support"):
        chat = chat_for(user, workflow={"id": workflow, "tracing": {"enabled": tracing}})
        return chat, chat.create(text).events

    return run


def trace_of(server, thread_id: str) -> dict:
    status, listing = get(server, "/v1/chatkit/traces", thread_id=thread_id)
    assert status == 200
    [summary] = listing["data"]
    status, trace = get(server, f"/v1/chatkit/traces/{summary['id']}")
    assert status == 200
    return trace


def get(server, path, key=ADMIN_KEY, **params):
    response = httpx2.get(
        f"{server.base_url}{path}", params=params, headers={"Authorization": f"Bearer {key}"}
    )
    return response.status_code, response.json()


def test_a_run_records_spans_linked_to_their_parents(server, run_chat, user):
    _, events = run_chat(user, "what is the weather?")
    thread_id = events[0]["thread"]["id"]
    status, listing = get(server, "/v1/chatkit/traces", thread_id=thread_id)
    assert status == 200
    [summary] = listing["data"]
    assert summary["workflow"] == {"id": "scripted-support", "version": "1"}
    assert summary["thread_id"] == thread_id and summary["error"] is None
    status, trace = get(server, f"/v1/chatkit/traces/{summary['id']}")
    assert status == 200
    spans = {span["id"]: span for span in trace["spans"]}
    # run > task > agent > turn 1 (generation, function), turn 2 (generation)
    [root] = [s for s in spans.values() if s["parent_id"] is None]
    assert (root["kind"], root["name"]) == ("custom", "run")
    assert root["data"]["data"] == {"workflow": "scripted-support", "version": "1", "operation": "respond"}
    [task] = [s for s in spans.values() if s["name"] == "task"]
    assert task["parent_id"] == root["id"]
    [agent] = [s for s in spans.values() if s["kind"] == "agent"]
    assert agent["parent_id"] == task["id"] and agent["name"] == "Scripted support"
    turns = [s for s in spans.values() if s["name"] == "turn"]
    assert [t["data"]["data"]["turn"] for t in turns] == [1, 2]
    assert all(t["parent_id"] == agent["id"] for t in turns)
    generations = [s for s in spans.values() if s["kind"] == "generation"]
    assert [g["parent_id"] for g in generations] == [t["id"] for t in turns]
    assert all(g["data"]["model"] == "script-a" for g in generations)
    assert all(g["data"]["usage"]["output_tokens"] > 0 for g in generations)
    [tool] = [s for s in spans.values() if s["kind"] == "function"]
    assert tool["name"] == "current_time" and tool["parent_id"] == turns[0]["id"]
    assert tool["data"]["output"].startswith("20")
    for span in spans.values():
        assert span["started_at"] <= span["ended_at"]
    # The user's message and every item the run produced are on the trace.
    produced = [e["item"]["id"] for e in events if e["type"] == "thread.item.done"]
    assert trace["item_ids"] == produced


def test_errors_are_recorded_on_the_trace_and_its_span(server, run_chat, user):
    _, events = run_chat(user, "please fail")
    thread_id = events[0]["thread"]["id"]
    _, listing = get(server, "/v1/chatkit/traces", thread_id=thread_id)
    [summary] = listing["data"]
    assert "scripted failure" in summary["error"]
    _, trace = get(server, f"/v1/chatkit/traces/{summary['id']}")
    [generation] = [s for s in trace["spans"] if s["kind"] == "generation"]
    assert generation["error"]["data"]["message"] == "scripted failure"


def test_nothing_is_recorded_when_tracing_is_disabled(server, run_chat, user):
    _, events = run_chat(user, "hello", tracing=False)
    assert any(e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message" for e in events)
    _, listing = get(server, "/v1/chatkit/traces", thread_id=events[0]["thread"]["id"])
    assert listing["data"] == []


def test_feedback_appears_on_the_items_trace(server, run_chat, user):
    chat, events = run_chat(user, "hello")
    thread_id = events[0]["thread"]["id"]
    [answer] = [
        e["item"]["id"]
        for e in events
        if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
    ]
    chat.call("items.feedback", thread_id=thread_id, item_ids=[answer], kind="positive")
    _, listing = get(server, "/v1/chatkit/traces", thread_id=thread_id)
    _, trace = get(server, f"/v1/chatkit/traces/{listing['data'][0]['id']}")
    assert [(f["item_id"], f["kind"], f["user"]) for f in trace["feedback"]] == [(answer, "positive", user)]


def test_traces_are_scoped_to_the_project(server, run_chat, user):
    _, events = run_chat(user, "hello")
    thread_id = events[0]["thread"]["id"]
    _, listing = get(server, "/v1/chatkit/traces", thread_id=thread_id)
    trace_id = listing["data"][0]["id"]
    other_key, _ = server.run(keys.create_key(server.platform.db, "tracing-other-project"))
    status, body = get(server, f"/v1/chatkit/traces/{trace_id}", key=other_key)
    assert status == 404 and body["error"]["param"] == "trace_id"
    _, other_listing = get(server, "/v1/chatkit/traces", key=other_key, thread_id=thread_id)
    assert other_listing["data"] == []
    status, body = get(server, "/v1/chatkit/traces", key="sk-wrong")
    assert status == 401


def test_only_chatkitd_processes_traces_and_nothing_leaves_the_host(server, run_chat, user, monkeypatch):
    # With a key in the environment, the SDK's default exporter would post to OpenAI.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key")
    provider = get_trace_provider()
    assert isinstance(provider, DefaultTraceProvider)
    processors = provider._multi_processor._processors
    assert processors == (install(),)

    outside: list[object] = []
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):  # noqa: ANN001
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host).is_loopback:
            outside.append(address)
            raise OSError(f"test forbids connecting to {address}")
        return real_connect(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):  # noqa: ANN001
        if host not in ("127.0.0.1", "localhost", "::1"):
            outside.append(host)
            raise OSError(f"test forbids resolving {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    _, events = run_chat(user, "what is the weather?")
    flush_traces()
    assert any(e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message" for e in events)
    assert outside == []

    # The guard does catch an export: the SDK's own exporter, used directly, is stopped by it.
    from agents.tracing import trace
    from agents.tracing.processors import BackendSpanExporter

    exporter = BackendSpanExporter(
        api_key="sk-not-a-real-key", max_retries=1, base_delay=0.01, max_delay=0.01
    )
    with trace("guard check", disabled=False) as probe:
        pass
    exporter.export([probe])
    exporter.close()
    assert outside and "openai.com" in str(outside[0])


def test_handoffs_and_guardrails_are_spans(server, run_chat, user):
    from chatkitd.workflows.deploy import deploy_file

    path = Path(__file__).parent / "workflows_data" / "handoff_agent.py"
    server.run(deploy_file(server.platform.workflows, "default", path, only_if_changed=True))

    def go(text):
        return run_chat(user, text, workflow="handoff-agent")[1]

    events = go("I have a question about my bill")
    assert [
        e["item"]["content"][0]["text"]
        for e in events
        if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
    ] == ["Billing here."]
    _, listing = get(server, "/v1/chatkit/traces", thread_id=events[0]["thread"]["id"])
    _, trace = get(server, f"/v1/chatkit/traces/{listing['data'][0]['id']}")
    kinds = {(s["kind"], s["name"]) for s in trace["spans"]}
    assert ("handoff", "triage -> billing") in kinds
    assert ("guardrail", "no_forbidden_words") in kinds
    assert {("agent", "triage"), ("agent", "billing")} <= kinds
    [guardrail] = [s for s in trace["spans"] if s["kind"] == "guardrail"]
    assert guardrail["data"]["triggered"] is False

    tripped = go("something forbidden")
    assert [e["type"] for e in tripped if e["type"] == "error"] == ["error"]
    _, listing = get(server, "/v1/chatkit/traces", thread_id=tripped[0]["thread"]["id"])
    _, trace = get(server, f"/v1/chatkit/traces/{listing['data'][0]['id']}")
    assert "InputGuardrailTripwireTriggered" in trace["error"]
    [guardrail] = [s for s in trace["spans"] if s["kind"] == "guardrail"]
    assert guardrail["data"]["triggered"] is True


def test_listing_pages_with_limit(server, run_chat, user):
    first = run_chat(user, "hello")[1][0]["thread"]["id"]
    status, listing = get(server, "/v1/chatkit/traces", limit="1")
    assert status == 200 and len(listing["data"]) == 1 and listing["has_more"] is True
    status, body = get(server, "/v1/chatkit/traces", limit="0")
    assert status == 400 and body["error"]["param"] == "limit"
    assert first


def test_a_demo_run_is_traced_with_what_it_produced(server, run_chat, user):
    _, events = run_chat(user, "hello demo", workflow="demo")
    trace = trace_of(server, events[0]["thread"]["id"])
    assert trace["workflow"] == {"id": "demo", "version": "1"} and trace["error"] is None
    assert trace["name"] == "demo v1"
    [root] = trace["spans"]
    assert (root["kind"], root["name"], root["parent_id"]) == ("custom", "run", None)
    assert root["data"]["data"]["operation"] == "respond"
    assert root["started_at"] <= root["ended_at"]
    assert trace["item_ids"] == [e["item"]["id"] for e in events if e["type"] == "thread.item.done"]
    assert len(trace["item_ids"]) == 2  # the user's message and the echo


def test_a_failing_demo_run_and_a_widget_action_are_traced(server, run_chat, user):
    chat, events = run_chat(user, "please fail", workflow="demo")
    failed = trace_of(server, events[0]["thread"]["id"])
    assert failed["error"] and failed["spans"][0]["error"]["message"] == failed["error"]

    widget = chat.create("show me a widget")
    [card] = widget.done_items("widget")
    action = {"type": "demo.increment", "payload": {"count": 0}}
    chat.stream("threads.custom_action", thread_id=widget.thread_id, item_id=card["id"], action=action)
    _, listing = get(server, "/v1/chatkit/traces", thread_id=widget.thread_id)
    operations = []
    for summary in listing["data"]:
        _, trace = get(server, f"/v1/chatkit/traces/{summary['id']}")
        operations.append(trace["spans"][0]["data"]["data"]["operation"])
    assert sorted(operations) == ["action demo.increment", "respond"]


def test_a_python_workflow_subclass_run_is_traced(server, chat_for, user):
    from chatkitd.workflows.deploy import deploy_file

    path = Path(__file__).parent / "workflows_data" / "custom_responder.py"
    version, _ = server.run(deploy_file(server.platform.workflows, "default", path, only_if_changed=True))
    stream = chat_for(user, workflow={"id": "custom-responder"}).create("quiet")
    trace = trace_of(server, stream.thread_id)
    assert trace["workflow"] == {"id": "custom-responder", "version": version.version}
    assert trace["item_ids"] == [i["id"] for i in stream.done_items()]
    # Its own step, recorded with context.run_trace.span(), hangs under the run.
    [root] = [s for s in trace["spans"] if s["parent_id"] is None]
    [step] = [s for s in trace["spans"] if s["name"] == "shout"]
    assert step["parent_id"] == root["id"] and step["data"]["data"] == {"letters": 5}
