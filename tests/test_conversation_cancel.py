"""A client that disconnects mid-stream cancels the run, and the text so far is kept."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit


def _read_until_deltas(response: http.client.HTTPResponse, wanted: int) -> tuple[str, int]:
    thread_id, deltas, buffer = "", 0, b""
    while deltas < wanted:
        buffer += response.read1(4096)
        *frames, buffer = buffer.split(b"\n\n")
        for frame in frames:
            event = json.loads(frame.removeprefix(b"data: "))
            if event["type"] == "thread.created":
                thread_id = event["thread"]["id"]
            elif event["type"] == "thread.item.updated" and "delta" in event["update"]:
                deltas += 1
    return thread_id, deltas


def test_disconnect_mid_stream_saves_the_partial_answer(server, client, user, chat_for):
    chat = chat_for(user)
    url = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "tell me something slow"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    conn.request(
        "POST",
        "/v1/chatkit/conversation",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {chat.secret}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    assert response.status == 200
    thread_id, deltas = _read_until_deltas(response, 5)
    conn.sock.close()
    conn.close()

    # The slow answer takes ~10 s in full; within 6 s the cancelled part must be saved.
    deadline = time.monotonic() + 6
    answers = []
    while time.monotonic() < deadline and not answers:
        time.sleep(0.2)
        items = client.beta.chatkit.threads.list_items(thread_id, order="asc").data
        answers = [i for i in items if i.type == "chatkit.assistant_message"]
    assert answers, "the partial assistant message was not saved"
    text = answers[0].content[0].text
    assert text.startswith("word1 word2 word3 word4 word5")
    assert "word200" not in text
    # The user's message is there too, and the thread is still usable.
    assert items[0].type == "chatkit.user_message"
    assert chat.say(thread_id, "hello again").text() == "Echo: hello again"
