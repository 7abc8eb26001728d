"""End to end: a handbook uploaded through the SDK answers a workflow's question, with a citation.

The model is a fake OpenAI-compatible server over real HTTP that behaves like
a model which must look things up: asked a question, it calls ``file_search``;
given the results, it answers with the sentence that best matches the
question and cites it. The answer's fact appears only in the handbook, so it
can reach the user only through chatkitd's search.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from typing import Any

import httpx2
import pytest

from tests.conftest import ADMIN_KEY
from tests.support.chat import Chat, new_session
from tests.support.fake_llm import fake_llm
from tests.support.harness import deploy_yaml

FACT = "The expense code for team offsites is ZX-4417."
FILLER = [
    "Holidays are requested through the people portal two weeks ahead.",
    "Laptops are replaced every three years by the IT service desk.",
    "Visitors sign in at reception and wear a badge at all times.",
    "The canteen serves lunch between noon and two in the afternoon.",
]
HANDBOOK = "# Staff handbook\n\n" + "\n\n".join([*FILLER[:2], FACT, *FILLER[2:]] * 3)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9-]+", text.lower()) if len(w) > 3}


def looks_it_up(body: dict[str, Any]) -> dict[str, Any]:
    """Question → call file_search; search results → the best-matching sentence, cited as [n]."""
    messages = body["messages"]
    last = messages[-1]
    if last["role"] == "tool":
        question = next(m for m in reversed(messages) if m["role"] == "user")
        asked = _words(
            question["content"] if isinstance(question["content"], str) else question["content"][0]["text"]
        )
        best, best_score = "I could not find that in the documents.", 0
        for number, passage in re.findall(
            r"\[(\d+)\] [^\n]*\n(.*?)(?=\n\n\[\d+\] |\Z)", last["content"], re.S
        ):
            for sentence in re.split(r"(?<=\.)\s+", passage):
                score = len(asked & _words(sentence))
                if score > best_score:
                    best, best_score = f"{sentence.strip()} [{number}]", score
        return {"text": best}
    text = last["content"] if isinstance(last["content"], str) else last["content"][0]["text"]
    return {"call": "file_search", "arguments": {"query": text}}


WORKFLOW = """
id: handbook-assistant
instructions: Answer from the staff handbook. Always search it first.
model: fake-model
provider: {{type: chat_completions, base_url: "{base_url}"}}
tools:
  - file_search: {{vector_store_ids: ["{store_id}"], max_num_results: 3}}
"""


@pytest.fixture
def handbook_store(client):
    store = client.vector_stores.create(name="Staff handbook")
    uploaded = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=("handbook.md", io.BytesIO(HANDBOOK.encode())), poll_interval_ms=50
    )
    assert uploaded.status == "completed", uploaded.last_error
    return store, uploaded


def test_a_question_answered_only_by_the_handbook_comes_back_cited(server, client, user, handbook_store):
    store, uploaded = handbook_store
    with fake_llm(reply=looks_it_up) as fake:
        server.run(deploy_yaml(server.platform, WORKFLOW.format(base_url=fake.base_url, store_id=store.id)))
        session = new_session(client, user, workflow={"id": "handbook-assistant"})
        with Chat(server, session.client_secret) as chat:
            stream = chat.create("What is the expense code for team offsites?")
    answer = stream.done_items("assistant_message")[-1]
    text = answer["content"][0]["text"]
    assert "ZX-4417" in text
    # The fact reached the model only as file_search's output, never in the prompt.
    asked, answered = [r["body"] for r in fake.requests if r["body"].get("stream")][:2]
    assert "ZX-4417" not in json.dumps(asked) and "file_search" in json.dumps(asked)
    tool_output = answered["messages"][-1]
    assert tool_output["role"] == "tool" and "ZX-4417" in tool_output["content"]
    [annotation] = answer["content"][0]["annotations"]
    assert annotation["source"]["type"] == "file"
    assert (
        annotation["source"]["filename"] == "handbook.md" and annotation["source"]["title"] == "handbook.md"
    )
    assert "ZX-4417" in annotation["source"]["description"]
    assert annotation["index"] == len(text.rstrip())  # right after the [n] marker that ends the answer
    # The search is a span of the run's trace, with the query and the hits.
    traces = httpx2.get(
        f"{server.base_url}/v1/chatkit/traces",
        params={"thread_id": stream.thread_id},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ).json()["data"]
    trace = httpx2.get(
        f"{server.base_url}/v1/chatkit/traces/{traces[0]['id']}",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ).json()
    [span] = [s for s in trace["spans"] if s["name"] == "file_search" and s["kind"] == "custom"]
    assert span["data"]["data"]["query"] == "What is the expense code for team offsites?"
    assert span["data"]["data"]["hits"][0]["file_id"] == uploaded.id
    # The citation opens the file in the chat: its id is the annotation's group.
    assert annotation["source"]["group"] == uploaded.id
    _opens_the_cited_file(server, client, user, session.client_secret, stream.thread_id, uploaded.id)


def _source(server, secret: str, file_id: str, thread_id: str | None) -> httpx2.Response:  # noqa: ANN001
    params = {"thread_id": thread_id} if thread_id is not None else {}
    return httpx2.get(
        f"{server.base_url}/v1/chatkit/sources/{file_id}",
        params=params,
        headers={"Authorization": f"Bearer {secret}"},
    )


def _opens_the_cited_file(server, client, user, secret, thread_id, file_id) -> None:  # noqa: ANN001
    opened = _source(server, secret, file_id, thread_id)
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert body["object"] == "chatkit.source" and body["filename"] == "handbook.md"
    assert FACT in body["text"] and body["text_truncated"] is False
    content = httpx2.get(body["content_url"])  # a signed link: no secret needed
    assert content.status_code == 200 and content.content == HANDBOOK.encode()
    assert "sandbox" in content.headers["content-security-policy"]
    assert content.headers["x-content-type-options"] == "nosniff"
    # The link is bound to its file and its signature.
    forged = body["content_url"].replace("signature=", "signature=0")
    assert httpx2.get(forged).status_code == 401
    other_file = client.files.create(file=("secret.txt", b"payroll"), purpose="assistants")
    swapped = body["content_url"].replace(file_id, other_file.id)
    assert httpx2.get(swapped).status_code == 401
    # Only a thread of the caller's that cites the file opens it.
    assert _source(server, secret, other_file.id, thread_id).status_code == 404  # not cited there
    assert _source(server, secret, file_id, None).status_code == 400
    neighbour = new_session(client, user + "_neighbour", workflow={"id": "handbook-assistant"})
    refused = _source(server, neighbour.client_secret, file_id, thread_id)
    assert refused.status_code == 404 and refused.json()["error"]["param"] == "thread_id"
    assert _source(server, ADMIN_KEY, file_id, thread_id).status_code == 401  # a client secret's route
    client.files.delete(other_file.id)


PYTHON_WORKFLOW = """
from agents import Agent, FileSearchTool

ID = "handbook-python"
PROVIDER = {{"type": "chat_completions", "base_url": "{base_url}"}}


def build_agent(run):
    return Agent(
        name="Handbook",
        instructions="Answer from the staff handbook. Always search it first.",
        model="fake-model",
        tools=[FileSearchTool(vector_store_ids=["{store_id}"], max_num_results=3)],
    )
"""


def test_a_python_agents_file_search_tool_searches_chatkitds_stores(
    server, client, user, handbook_store, tmp_path
):
    """The Agents SDK's hosted FileSearchTool, on a Chat Completions model (which cannot run hosted tools)."""
    from chatkitd.workflows.deploy import deploy_file

    store, uploaded = handbook_store
    with fake_llm(reply=looks_it_up) as fake:
        path = tmp_path / "handbook_python.py"
        path.write_text(PYTHON_WORKFLOW.format(base_url=fake.base_url, store_id=store.id))
        server.run(deploy_file(server.platform.workflows, "default", path))
        session = new_session(client, user, workflow={"id": "handbook-python"})
        with Chat(server, session.client_secret) as chat:
            stream = chat.create("What is the expense code for team offsites?")
    answer = stream.done_items("assistant_message")[-1]
    assert "ZX-4417" in answer["content"][0]["text"]
    [annotation] = answer["content"][0]["annotations"]
    assert annotation["source"]["group"] == uploaded.id
    asked = [r["body"] for r in fake.requests if r["body"].get("stream")][0]
    assert [t["function"]["name"] for t in asked["tools"]] == ["file_search"]


def test_the_tool_never_searches_another_projects_store(server, client, user, handbook_store):
    from chatkitd.store import keys

    store, _ = handbook_store
    other_key, _ = server.run(keys.create_key(server.platform.db, "kb-other"))
    other = server.sdk(other_key)
    with fake_llm(reply=looks_it_up) as fake:
        yaml_text = WORKFLOW.format(base_url=fake.base_url, store_id=store.id)
        server.run(deploy_yaml(server.platform, yaml_text, project="kb-other"))
        session = new_session(other, user, workflow={"id": "handbook-assistant"})
        with Chat(server, session.client_secret) as chat:
            stream = chat.create("What is the expense code for team offsites?")
    assert "ZX-4417" not in stream.text()
    assert "ZX-4417" not in json.dumps(fake.requests)


def test_a_yaml_file_search_tool_is_validated_at_deploy(server):
    from chatkitd.errors import InvalidRequest
    from chatkitd.workflows.definitions import parse_yaml

    bad = textwrap.dedent(
        """
        id: broken
        tools:
          - file_search: {vector_store_ids: []}
        """
    )
    with pytest.raises(InvalidRequest) as caught:
        parse_yaml(bad)
    assert "vector_store_ids" in caught.value.message
    with pytest.raises(InvalidRequest) as unknown:
        parse_yaml("id: broken\ntools:\n  - telepathy: {}\n")
    assert "(unknown: telepathy)" in unknown.value.message and "`file_search`" in unknown.value.message
