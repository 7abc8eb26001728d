"""GET /v1/chatkit/threads/{id}/items: every protocol item mapped to its REST type."""

from __future__ import annotations

import json

import openai
import pytest
from chatkit.types import ThreadItem

from tests.support import seed


def _seed_every_type(server, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context, title="every type")
        items: list[ThreadItem] = [
            seed.user_message(store, thread, context, "What is near?", "the quoted bit", tag="@Ada"),
            seed.assistant_message(store, thread, context, "Here you go", annotated=True),
            seed.widget(store, thread, context),
            seed.client_tool_call(store, thread, context),
            seed.client_tool_call(store, thread, context, output={"lat": 1.5, "ok": True}),
            seed.task(store, thread, context),
            seed.workflow(store, thread, context),
        ]
        await seed.add_items(store, thread, context, items)
        return thread, items

    return server.run(make())


def test_every_protocol_item_maps_to_its_rest_type(server, client, user):
    thread, items = _seed_every_type(server, user)
    page = client.beta.chatkit.threads.list_items(thread.id, order="asc", limit=100)
    assert [i.id for i in page.data] == [i.id for i in items]
    assert page.first_id == items[0].id and page.last_id == items[-1].id
    assert page.has_more is False
    for got in page.data:
        assert got.object == "chatkit.thread_item"
        assert got.thread_id == thread.id
        assert got.created_at > 0
    user_msg, assistant, widget, pending, done, task, group = page.data

    assert user_msg.type == "chatkit.user_message"
    assert [(c.type, c.text) for c in user_msg.content] == [
        ("quoted_text", "the quoted bit"),
        ("input_text", "What is near?"),
        ("input_text", "@Ada"),
    ]
    assert user_msg.attachments == []
    assert user_msg.inference_options is None

    assert assistant.type == "chatkit.assistant_message"
    (part,) = assistant.content
    assert (part.type, part.text) == ("output_text", "Here you go")
    # URL and file annotations are kept; the entity annotation has no REST shape.
    assert [a.type for a in part.annotations] == ["url", "file"]
    assert part.annotations[0].source.url == "https://example.com/docs"
    assert part.annotations[1].source.filename == "report.pdf"

    assert widget.type == "chatkit.widget"
    decoded = json.loads(widget.widget)
    assert decoded["type"] == "Card"
    assert decoded["children"][0] == {"type": "Text", "value": "Hello widget"}

    assert pending.type == "chatkit.client_tool_call"
    assert pending.status == "in_progress"
    assert (pending.call_id, pending.name) == ("call_1", "get_location")
    assert json.loads(pending.arguments) == {"precise": True, "n": 2}
    assert pending.output is None
    assert done.status == "completed"
    assert json.loads(done.output) == {"lat": 1.5, "ok": True}

    assert task.type == "chatkit.task"
    assert (task.task_type, task.heading, task.summary) == (
        "custom",
        "Searching",
        "Looked in three places",
    )

    assert group.type == "chatkit.task_group"
    assert [(t.type, t.heading, t.summary) for t in group.tasks] == [
        ("thought", "Thinking", "Considered options"),
        ("custom", "Step", None),
    ]


def test_items_default_to_newest_first(server, client, user):
    thread, items = _seed_every_type(server, user)
    page = client.beta.chatkit.threads.list_items(thread.id)
    assert [i.id for i in page.data] == [i.id for i in reversed(items)]


def test_hidden_items_are_skipped_without_making_pages_short(server, client, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context)
        visible = []
        for n in range(5):
            message = seed.user_message(store, thread, context, f"m{n}")
            visible.append(message)
            # Hidden items on both sides of every visible one.
            before = seed.hidden_items(store, thread, context)
            after = seed.hidden_items(store, thread, context)
            await seed.add_items(store, thread, context, [*before, message, *after])
        return thread, visible

    thread, visible = server.run(make())
    pages = []
    after = None
    while True:
        kwargs: dict[str, str] = {"after": after} if after else {}
        page = client.beta.chatkit.threads.list_items(thread.id, order="asc", limit=2, **kwargs)
        pages.append(([i.content[0].text for i in page.data], page.has_more))
        if not page.has_more:
            break
        after = page.last_id
    assert pages == [(["m0", "m1"], True), (["m2", "m3"], True), (["m4"], False)]
    everything = list(client.beta.chatkit.threads.list_items(thread.id, order="desc", limit=2))
    assert [i.id for i in everything] == [m.id for m in reversed(visible)]


def test_items_of_unknown_thread_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.beta.chatkit.threads.list_items("cthr_missing")
    assert caught.value.param == "thread_id"
