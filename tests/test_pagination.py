"""Paging rules shared by GET /threads and GET /threads/{id}/items.

``after=X`` continues past X in the requested order (the SDK's
auto-pagination sends it); ``before=X`` is the page just before X in that
order; cursors must exist.
"""

from __future__ import annotations

from datetime import datetime

import openai
import pytest

from tests.support import seed

N = 8


@pytest.fixture
def threads(server, user) -> list[str]:
    """N threads of ``user``, oldest first."""
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        return [(await seed.make_thread(store, context, title=f"t{n}")).id for n in range(N)]

    return server.run(make())


@pytest.fixture
def items(server, user) -> tuple[str, list[str]]:
    """A thread of N items all stamped with the same instant, oldest first."""
    store = server.platform.threads
    instant = datetime.now()

    async def make():
        # Another user, so this thread stays out of the ``threads`` listing.
        context = await seed.project_context(store, "default", user + "_items")
        thread = await seed.make_thread(store, context)
        made = []
        for n in range(N):
            item = seed.user_message(store, thread, context, f"i{n}")
            item.created_at = instant
            made.append(item)
        await seed.add_items(store, thread, context, made)
        return thread.id, [i.id for i in made]

    return server.run(make())


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_auto_pagination_over_threads(client, user, threads, order):
    expected = threads if order == "asc" else threads[::-1]
    first = client.beta.chatkit.threads.list(limit=3, order=order, user=user)
    assert [t.id for t in first.data] == expected[:3]
    assert first.has_more is True
    assert (first.first_id, first.last_id) == (expected[0], expected[2])
    assert [t.id for t in first] == expected


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_auto_pagination_over_items_created_in_the_same_second(client, items, order):
    thread_id, item_ids = items
    expected = item_ids if order == "asc" else item_ids[::-1]
    pages = client.beta.chatkit.threads.list_items(thread_id, limit=3, order=order)
    seen = [i.id for i in pages]
    assert seen == expected
    assert [[i.id for i in page.data] for page in pages.iter_pages()] == [
        expected[0:3],
        expected[3:6],
        expected[6:8],
    ]


def test_default_order_is_newest_first_and_default_limit_20(server, client, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        return [(await seed.make_thread(store, context)).id for _ in range(21)]

    made = server.run(make())
    page = client.beta.chatkit.threads.list(user=user)
    assert [t.id for t in page.data] == made[::-1][:20]
    assert page.has_more is True


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_before_gives_the_page_just_before_the_cursor(client, user, threads, items, order):
    expected = threads if order == "asc" else threads[::-1]
    page = client.beta.chatkit.threads.list(before=expected[5], limit=2, order=order, user=user)
    assert [t.id for t in page.data] == expected[3:5]
    assert page.has_more is True
    page = client.beta.chatkit.threads.list(before=expected[1], limit=5, order=order, user=user)
    assert [t.id for t in page.data] == expected[0:1]
    assert page.has_more is False

    thread_id, item_ids = items
    expected = item_ids if order == "asc" else item_ids[::-1]
    page = client.beta.chatkit.threads.list_items(thread_id, before=expected[4], limit=3, order=order)
    assert [i.id for i in page.data] == expected[1:4]
    assert page.has_more is True


def test_after_and_before_together_give_the_window_between(client, user, threads):
    page = client.beta.chatkit.threads.list(
        after=threads[1], before=threads[6], limit=10, order="asc", user=user
    )
    assert [t.id for t in page.data] == threads[2:6]


@pytest.mark.parametrize("limit", [0, 1, 100])
def test_limit_bounds_accepted(client, user, threads, limit):
    page = client.beta.chatkit.threads.list(limit=limit, user=user, order="asc")
    assert [t.id for t in page.data] == threads[:limit]
    assert page.has_more is (limit < N)
    items_page = client.beta.chatkit.threads.list_items(threads[0], limit=limit)
    assert items_page.data == []
    assert items_page.has_more is False


def test_limit_zero_has_no_ids(client, user, threads):
    page = client.beta.chatkit.threads.list(limit=0, user=user)
    assert (page.data, page.first_id, page.last_id, page.has_more) == ([], None, None, True)


@pytest.mark.parametrize("limit", [-1, 101, "abc", "1.5", ""])
def test_limit_bounds_refused(client, threads, limit):
    for call in (
        lambda: client.beta.chatkit.threads.list(extra_query={"limit": limit}),
        lambda: client.beta.chatkit.threads.list_items(threads[0], extra_query={"limit": limit}),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            call()
        assert caught.value.param == "limit"


@pytest.mark.parametrize("order", ["up", "ASC", ""])
def test_bad_order_refused(client, threads, order):
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.chatkit.threads.list(extra_query={"order": order})
    assert caught.value.param == "order"
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.chatkit.threads.list_items(threads[0], extra_query={"order": order})
    assert caught.value.param == "order"


@pytest.mark.parametrize("param", ["after", "before"])
def test_unknown_cursor_refused_naming_it(client, threads, items, param):
    thread_id, item_ids = items
    for call in (
        lambda: client.beta.chatkit.threads.list(**{param: "cthr_unknown"}),
        lambda: client.beta.chatkit.threads.list_items(thread_id, **{param: "cthi_unknown"}),
        # A thread id is no cursor for items, nor an item id of another thread.
        lambda: client.beta.chatkit.threads.list_items(thread_id, **{param: threads[0]}),
        lambda: client.beta.chatkit.threads.list(**{param: item_ids[0]}),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            call()
        assert caught.value.param == param
        assert caught.value.code == "invalid_cursor"


def test_user_filter(server, client, user, threads):
    store = server.platform.threads
    other = user + "_other"

    async def make():
        context = await seed.project_context(store, "default", other)
        return (await seed.make_thread(store, context)).id

    theirs = server.run(make())
    assert [t.id for t in client.beta.chatkit.threads.list(user=user, order="asc")] == threads
    assert [t.id for t in client.beta.chatkit.threads.list(user=other)] == [theirs]
    assert client.beta.chatkit.threads.list(user="nobody_at_all").data == []
    # Without the filter every user's threads are listed.
    everyone = {t.id for t in client.beta.chatkit.threads.list(limit=100)}
    assert {theirs, *threads} <= everyone
