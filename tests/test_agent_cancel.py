"""A client that disconnects from an agent's stream: the run stops, the partial text and the trace stay."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx2

from tests.conftest import ADMIN_KEY
from tests.support.chat import disconnect_mid_stream
from tests.support.harness import deploy_yaml

SCRIPTED = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()


def test_disconnect_keeps_partial_text_and_records_the_trace(server, client, user, chat_for):
    server.run(deploy_yaml(server.platform, SCRIPTED))
    chat = chat_for(user, workflow={"id": "scripted-support"})
    thread_id = disconnect_mid_stream(chat, "answer slowly")

    # The full answer takes ~10 s; well before that, the partial text and the trace are saved.
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    deadline = time.monotonic() + 6
    answers: list[Any] = []
    traces: list[Any] = []
    while time.monotonic() < deadline and not (answers and traces):
        time.sleep(0.2)
        items = client.beta.chatkit.threads.list_items(thread_id, order="asc").data
        answers = [i for i in items if i.type == "chatkit.assistant_message"]
        traces = httpx2.get(
            f"{server.base_url}/v1/chatkit/traces", params={"thread_id": thread_id}, headers=headers
        ).json()["data"]
    assert answers and answers[0].content[0].text.startswith("word1 word2 word3 word4 word5")
    assert "word200" not in answers[0].content[0].text
    [trace] = traces
    assert trace["error"].startswith("CancelledError")
    assert trace["started_at"] < trace["ended_at"]
    assert chat.say(thread_id, "hello again").text() == "You said: hello again"
