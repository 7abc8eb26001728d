"""Web search against fake search engines over real HTTP on loopback, on the offline scripted model."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from agents import FunctionTool, WebSearchTool

from chatkitd.settings import Settings
from chatkitd.tools.web_search import BACKENDS, WebSearchConfig, web_search_tool
from tests.support.chat import Chat
from tests.support.fake_search import KEY, FakeSearch, fake_search
from tests.support.harness import deploy_yaml

SCRIPT = """
    - when: "^search"
      steps:
        - call: {name: web_search, arguments: {query: chatkit release}}
        - text: "ChatKit 1.6 adds widgets [1]. You can also run it yourself [2]."
    - when: "^uncited"
      steps:
        - call: {name: web_search, arguments: {query: chatkit}}
        - text: "Here is what I found."
    - when: "^raw"
      steps:
        - call: {name: web_search, arguments: {query: chatkit}}
        - text: "Results: {{ tool_output }}"
"""
# Where each back end's fake answers, and how the workflow names it.
ENGINES: dict[str, dict[str, Any]] = {
    "searxng": {"url": "/searxng", "max_results": 2},
    "brave": {"url": "/res/v1/web/search", "api_key_env": "FAKE_SEARCH_KEY", "max_results": 2},
    "tavily": {"url": "/search", "api_key_env": "FAKE_SEARCH_KEY", "max_results": 2},
}


def test_every_back_end_is_tested_here():
    assert set(BACKENDS) == set(ENGINES)


@pytest.fixture(scope="module")
def engine() -> Iterator[FakeSearch]:
    with fake_search() as fake, pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAKE_SEARCH_KEY", KEY)
        yield fake


def deploy(server: Any, engine: FakeSearch, backend: str, **options: Any) -> str:
    """Deploy a scripted workflow whose `web_search` uses ``backend`` on the fake engine."""
    config = {**ENGINES[backend], "backend": backend, **options}
    config["url"] = engine.base_url + config["url"]
    workflow_id = f"search-{uuid.uuid4().hex[:8]}"
    text = f"id: {workflow_id}\nprovider:\n  type: scripted\n  script:{SCRIPT}tools:\n"
    server.run(deploy_yaml(server.platform, text + f"  - web_search: {json.dumps(config)}\n"))
    return workflow_id


@pytest.fixture(params=sorted(ENGINES))
def chat(request, server, engine, chat_for, user) -> Chat:
    workflow_id = deploy(server, engine, request.param)
    made = chat_for(user, workflow={"id": workflow_id})
    made.engine = request.param
    return made


def citations(item: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    return [(a["source"]["url"], a["source"]["title"], a["index"]) for a in item["content"][0]["annotations"]]


def test_results_reach_the_user_as_url_citations(chat, engine):
    stream = chat.create("search for the release")
    text = "ChatKit 1.6 adds widgets [1]. You can also run it yourself [2]."
    [message] = stream.done_items("assistant_message")
    assert message["content"][0]["text"] == text
    expected = [
        ("https://docs.example.com/chatkit/releases", "ChatKit release notes", text.index("[1]") + 3),
        ("https://blog.example.org/self-hosting", "Self-hosting ChatKit", text.index("[2]") + 3),
    ]
    assert citations(message) == expected
    streamed = [
        e["update"]["annotation"]["source"]["url"]
        for e in stream.of("thread.item.updated")
        if e["update"]["type"] == "assistant_message.content_part.annotation_added"
    ]
    assert streamed == [url for url, _, _ in expected]
    stored = chat.call("items.list", thread_id=stream.thread_id)["data"]
    assert citations(next(i for i in stored if i["type"] == "assistant_message")) == expected
    sent = engine.requests[-1]
    assert sent["engine"] == chat.engine
    assert "chatkit release" in json.dumps([sent["query"], sent["body"]])


def test_the_model_reads_numbered_results(chat):
    text = chat.create("raw results").text()
    assert text.startswith("Results: [1] ChatKit release notes\nhttps://docs.example.com/chatkit/releases\n")
    assert "[2] Self-hosting ChatKit" in text and "[3]" not in text  # max_results: 2


def test_an_answer_citing_nothing_lists_what_it_was_shown(chat):
    [message] = chat.create("uncited please").done_items("assistant_message")
    end = len("Here is what I found.")
    assert [(url, index) for url, _, index in citations(message)] == [
        ("https://docs.example.com/chatkit/releases", end),
        ("https://blog.example.org/self-hosting", end),
    ]


def test_the_trace_has_the_query_and_the_results(chat, client):
    stream = chat.create("search for the release")
    listed = client.get(f"/chatkit/traces?thread_id={stream.thread_id}", cast_to=object)
    trace = client.get(f"/chatkit/traces/{listed['data'][0]['id']}", cast_to=object)
    [span] = [s for s in trace["spans"] if s["kind"] == "custom" and s["name"] == "web_search"]
    data = span["data"]["data"]
    assert data["backend"] == chat.engine
    assert data["query"] == "chatkit release"
    assert [r["url"] for r in data["results"]] == [
        "https://docs.example.com/chatkit/releases",
        "https://blog.example.org/self-hosting",
    ]
    assert KEY not in json.dumps(trace)


def test_a_failing_engine_is_a_tool_error_not_a_broken_stream(server, engine, chat_for, user, client):
    workflow_id = deploy(server, engine, "searxng")
    chat = chat_for(user, workflow={"id": workflow_id})
    engine.fail = True
    try:
        stream = chat.create("raw results")
    finally:
        engine.fail = False
    assert stream.text() == "Results: Web search failed: SearXNG answered HTTP 500"
    assert not stream.of("error")
    listed = client.get(f"/chatkit/traces?thread_id={stream.thread_id}", cast_to=object)
    trace = client.get(f"/chatkit/traces/{listed['data'][0]['id']}", cast_to=object)
    [span] = [s for s in trace["spans"] if s["kind"] == "custom" and s["name"] == "web_search"]
    assert span["error"]["message"] == "Web search failed"


def test_a_missing_key_says_which_variable(server, engine, chat_for, user):
    workflow_id = deploy(server, engine, "brave", api_key_env="NO_SUCH_KEY_VAR")
    chat = chat_for(user, workflow={"id": workflow_id})
    assert chat.create("raw results").text() == (
        "Results: Web search failed: web search is not configured: "
        "the server's environment lacks NO_SUCH_KEY_VAR"
    )


def test_allowed_domains_keep_only_those_sites(server, engine, chat_for, user):
    workflow_id = deploy(server, engine, "searxng", allowed_domains=["example.org"], max_results=5)
    text = chat_for(user, workflow={"id": workflow_id}).create("raw results").text()
    assert "blog.example.org" in text and "docs.example.com" not in text and "spam" not in text


def test_auto_uses_openais_hosted_search_on_the_responses_api():
    tool = web_search_tool(WebSearchConfig(), Settings(), hosted_available=True)
    assert isinstance(tool, WebSearchTool)


def test_auto_elsewhere_uses_the_servers_back_end(engine):
    settings = Settings(web_search_backend="searxng", searxng_url=f"{engine.base_url}/searxng")
    tool = web_search_tool(WebSearchConfig(), settings, hosted_available=False)
    assert isinstance(tool, FunctionTool) and tool.name == "web_search"
    with pytest.raises(ValueError, match="CHATKITD_WEB_SEARCH_BACKEND"):
        web_search_tool(WebSearchConfig(), Settings(), hosted_available=False)
    with pytest.raises(ValueError, match="needs the OpenAI provider"):
        web_search_tool(WebSearchConfig(backend="openai"), Settings(), hosted_available=False)


def test_a_hosted_web_search_tool_maps_to_this_tool(engine):
    from chatkitd.tools.web_search import from_hosted

    hosted = WebSearchTool(search_context_size="high", filters={"allowed_domains": ["example.org"]})
    config = from_hosted(hosted)
    assert (config.search_context_size, config.allowed_domains) == ("high", ["example.org"])
    settings = Settings(web_search_backend="searxng", searxng_url=f"{engine.base_url}/searxng")
    assert isinstance(web_search_tool(config, settings, hosted_available=False), FunctionTool)
    assert isinstance(web_search_tool(config, settings, hosted_available=True), WebSearchTool)
