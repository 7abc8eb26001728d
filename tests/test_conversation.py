"""End to end: mint a session with the SDK, chat with its secret, read the thread back over REST."""

from __future__ import annotations

import pytest

from tests.support.chat import Chat, new_session


@pytest.fixture
def chat(server, client, user):
    session = new_session(client, user)
    chat = Chat(server, session.client_secret)
    yield chat
    chat.close()


def test_create_thread_streams_and_rest_lists_it(chat, client, user):
    stream = chat.create("Hello there")
    kinds = [e["type"] for e in stream.events]
    assert kinds[:3] == ["thread.created", "thread.item.done", "stream_options"]
    assert stream.events[1]["item"]["type"] == "user_message"
    assert stream.text() == "Echo: Hello there"
    deltas = [
        e["update"]["delta"]
        for e in stream.of("thread.item.updated")
        if e["update"]["type"] == "assistant_message.content_part.text_delta"
    ]
    assert len(deltas) > 1 and "".join(deltas) == "Echo: Hello there"
    # Titling is on by default: the title arrives with thread.updated, last.
    assert kinds[-1] == "thread.updated"
    assert stream.events[-1]["thread"]["title"] == "Hello there"

    thread_id = stream.thread_id
    threads = client.beta.chatkit.threads.list(user=user)
    assert [t.id for t in threads.data] == [thread_id]
    assert threads.data[0].title == "Hello there"
    items = client.beta.chatkit.threads.list_items(thread_id, order="asc").data
    assert [i.type for i in items] == ["chatkit.user_message", "chatkit.assistant_message"]
    assert items[0].content[0].text == "Hello there"
    answer = items[1].content[0]
    assert answer.text == "Echo: Hello there"
    assert [(a.type, a.source.url) for a in answer.annotations] == [
        ("url", "https://openai.github.io/chatkit-python/")
    ]


def test_add_user_message_continues_the_thread(chat, client):
    thread_id = chat.create("first").thread_id
    stream = chat.say(thread_id, "second")
    assert [e["type"] for e in stream.events][:2] == ["thread.item.done", "stream_options"]
    assert stream.text() == "Echo: second"
    # The thread already has a title: no thread.updated this time.
    assert stream.of("thread.updated") == []
    texts = [i.content[0].text for i in client.beta.chatkit.threads.list_items(thread_id, order="asc").data]
    assert texts == ["first", "Echo: first", "second", "Echo: second"]
