"""examples/graph-support.yaml as written, chatted with: the CRM over MCP, the approval, the handbook.

Only what a test machine must change is changed: the model is the offline
scripted one (the guardrails node's jailbreak judge gets a scripted verdict),
the CRM (examples/mcp/crm_server.py) listens on this test's port, and the
handbook is a vector store uploaded through the SDK.
"""

from __future__ import annotations

import io
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.chat import Stream, parse_sse
from tests.support.harness import deploy_yaml
from tests.support.mcp import McpServerProcess

EXAMPLES = Path(__file__).parents[1] / "examples"
FACT = "The expense code for team offsites is ZX-4417."
SCRIPTED = """provider:
  type: scripted
  script:
    - when: "^Request: .*refund"
      steps: [{text: '{"intent": "refund", "amount": 18.5}'}]
    - when: "^Request: "
      steps: [{text: '{"intent": "question", "amount": 0}'}]
    - steps: [{text: "{{ instructions }}"}]
"""
JUDGE = """    input: workflow.input_as_text
    provider: {type: scripted, script: [{steps: [{text: '{"flagged": false, "confidence": 0.1}'}]}]}
"""


@pytest.fixture
def chat(server, client, chat_for, user, monkeypatch):
    token = "Bearer example-" + uuid.uuid4().hex[:8]
    monkeypatch.setenv("CRM_TOKEN", token)
    store = client.vector_stores.create(name="Handbook")
    handbook = "# Handbook\n\nLaptops are replaced every three years.\n\n" + FACT + "\n"
    uploaded = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=("handbook.md", io.BytesIO(handbook.encode())), poll_interval_ms=50
    )
    assert uploaded.status == "completed", uploaded.last_error
    argv = [sys.executable, str(EXAMPLES / "mcp" / "crm_server.py")]
    with McpServerProcess(argv=argv, CRM_TOKEN=token) as crm:
        text = (EXAMPLES / "graph-support.yaml").read_text()
        text = text.replace("model: gpt-4.1-mini\n", SCRIPTED, 1)
        text = text.replace("    input: workflow.input_as_text\n", JUDGE, 1)
        text = text.replace("127.0.0.1:8931", f"127.0.0.1:{crm.port}").replace("vs_your_handbook", store.id)
        text = text.replace("id: graph-support", f"id: graph-support-{user}", 1)
        server.run(deploy_yaml(server.platform, text))
        yield chat_for(user, workflow={"id": f"graph-support-{user}"})


def texts(stream: Stream) -> list[str]:
    return [c["text"] for item in stream.done_items("assistant_message") for c in item["content"]]


def test_a_refund_reads_the_crm_asks_and_is_counted(chat):
    asked = chat.create("please refund my punch cards")
    [card] = asked.done_items("widget")
    question = card["widget"]["children"][0]["value"]
    # The MCP node's result (the CRM's orders for C-100) is in the question.
    assert question.startswith("Refund 18.5 to there?") and "O-2" in question, question
    response = chat.post(
        "threads.custom_action",
        thread_id=asked.thread_id,
        item_id=card["id"],
        action=card["widget"]["confirm"]["action"],
    )
    assert response.status_code == 200, response.text
    [said] = texts(Stream(response, parse_sse(response.text)))
    assert "refund of 18.5 is on its way" in said and "refund number 1 in" in said


def test_a_question_is_answered_from_the_handbook(chat):
    [said] = texts(chat.create("what is the expense code for team offsites?"))
    assert FACT in said


def test_card_numbers_are_refused_before_any_model(chat):
    assert texts(chat.create("my card is 4111 1111 1111 1111")) == [
        "Please do not share card or account numbers here, and keep to support questions."
    ]
