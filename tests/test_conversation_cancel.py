"""A client that disconnects mid-stream cancels the run, and the text so far is kept."""

from __future__ import annotations

import time
from typing import Any

from tests.support.chat import disconnect_mid_stream


def test_disconnect_mid_stream_saves_the_partial_answer(server, client, user, chat_for):
    chat = chat_for(user)
    thread_id = disconnect_mid_stream(chat, "tell me something slow")

    # The slow answer takes ~10 s in full; within 6 s the cancelled part must be saved.
    deadline = time.monotonic() + 6
    answers: list[Any] = []
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
