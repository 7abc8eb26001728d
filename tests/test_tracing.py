"""Traces of agent runs: recorded in chatkitd's database only, readable with an admin key."""

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
from tests.support.harness import WorkflowHarness, deploy_yaml, session_context, user_input

SCRIPTED = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()


@pytest.fixture(scope="module")
def harness(server):
    server.run(deploy_yaml(server.platform, SCRIPTED))
    return WorkflowHarness(server.platform)


def run_chat(server, harness, user, text, tracing=True):
    async def go():
        workflow = {"id": "scripted-support", "tracing": {"enabled": tracing}}
        context = await session_context(server.platform, user, workflow)
        events = await harness.request(context, "threads.create", input=user_input(text))
        return context, events

    return server.run(go())


def get(server, path, key=ADMIN_KEY, **params):
    response = httpx2.get(
        f"{server.base_url}{path}", params=params, headers={"Authorization": f"Bearer {key}"}
    )
    return response.status_code, response.json()


def test_a_run_records_spans_linked_to_their_parents(server, harness, user):
    _, events = run_chat(server, harness, user, "what is the weather?")
    thread_id = events[0]["thread"]["id"]
    status, listing = get(server, "/v1/chatkit/traces", thread_id=thread_id)
    assert status == 200
    [summary] = listing["data"]
    assert summary["workflow"] == {"id": "scripted-support", "version": "1"}
    assert summary["thread_id"] == thread_id and summary["error"] is None
    status, trace = get(server, f"/v1/chatkit/traces/{summary['id']}")
    assert status == 200
    spans = {span["id"]: span for span in trace["spans"]}
    # task (the run) > agent > turn 1 (generation, function), turn 2 (generation)
    [root] = [s for s in spans.values() if s["parent_id"] is None]
    assert (root["kind"], root["name"]) == ("custom", "task")
    [agent] = [s for s in spans.values() if s["kind"] == "agent"]
    assert agent["parent_id"] == root["id"] and agent["name"] == "Scripted support"
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


def test_errors_are_recorded_on_the_trace_and_its_span(server, harness, user):
    _, events = run_chat(server, harness, user, "please fail")
    thread_id = events[0]["thread"]["id"]
    _, listing = get(server, "/v1/chatkit/traces", thread_id=thread_id)
    [summary] = listing["data"]
    assert "scripted failure" in summary["error"]
    _, trace = get(server, f"/v1/chatkit/traces/{summary['id']}")
    [generation] = [s for s in trace["spans"] if s["kind"] == "generation"]
    assert generation["error"]["data"]["message"] == "scripted failure"


def test_nothing_is_recorded_when_tracing_is_disabled(server, harness, user):
    _, events = run_chat(server, harness, user, "hello", tracing=False)
    assert any(e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message" for e in events)
    _, listing = get(server, "/v1/chatkit/traces", thread_id=events[0]["thread"]["id"])
    assert listing["data"] == []


def test_feedback_appears_on_the_items_trace(server, harness, user):
    context, events = run_chat(server, harness, user, "hello")
    thread_id = events[0]["thread"]["id"]
    [answer] = [
        e["item"]["id"]
        for e in events
        if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
    ]
    server.run(server.platform.threads.add_feedback(thread_id, [answer], "positive", context))
    _, listing = get(server, "/v1/chatkit/traces", thread_id=thread_id)
    _, trace = get(server, f"/v1/chatkit/traces/{listing['data'][0]['id']}")
    assert [(f["item_id"], f["kind"], f["user"]) for f in trace["feedback"]] == [(answer, "positive", user)]


def test_traces_are_scoped_to_the_project(server, harness, user):
    _, events = run_chat(server, harness, user, "hello")
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


def test_only_chatkitd_processes_traces_and_nothing_leaves_the_host(server, harness, user, monkeypatch):
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
    _, events = run_chat(server, harness, user, "what is the weather?")
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


def test_handoffs_and_guardrails_are_spans(server, user):
    from chatkitd.workflows.deploy import deploy_file

    path = Path(__file__).parent / "workflows_data" / "handoff_agent.py"
    server.run(deploy_file(server.platform.workflows, "default", path, only_if_changed=True))
    harness = WorkflowHarness(server.platform)

    async def go(text):
        context = await session_context(server.platform, user, {"id": "handoff-agent"})
        return await harness.request(context, "threads.create", input=user_input(text))

    events = server.run(go("I have a question about my bill"))
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

    tripped = server.run(go("something forbidden"))
    assert [e["type"] for e in tripped if e["type"] == "error"] == ["error"]
    _, listing = get(server, "/v1/chatkit/traces", thread_id=tripped[0]["thread"]["id"])
    _, trace = get(server, f"/v1/chatkit/traces/{listing['data'][0]['id']}")
    assert "InputGuardrailTripwireTriggered" in trace["error"]
    [guardrail] = [s for s in trace["spans"] if s["kind"] == "guardrail"]
    assert guardrail["data"]["triggered"] is True


def test_listing_pages_with_limit(server, harness, user):
    first = run_chat(server, harness, user, "hello")[1][0]["thread"]["id"]
    status, listing = get(server, "/v1/chatkit/traces", limit="1")
    assert status == 200 and len(listing["data"]) == 1 and listing["has_more"] is True
    status, body = get(server, "/v1/chatkit/traces", limit="0")
    assert status == 400 and body["error"]["param"] == "limit"
    assert first
