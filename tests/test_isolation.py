"""Two projects on one server: a key of one never reaches the other's sessions or threads."""

from __future__ import annotations

import uuid

import openai
import pytest
from chatkit.types import ThreadItem

from chatkitd.store import keys
from tests.support import seed


@pytest.fixture
def other(server):
    """An SDK client holding the admin key of a second, fresh project."""
    project = f"other_{uuid.uuid4().hex[:8]}"
    token, _ = server.run(keys.create_key(server.platform.db, project))
    with server.sdk(token) as sdk:
        yield project, sdk


def _thread_with_items(server, project: str, user: str):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, project, user)
        thread = await seed.make_thread(store, context, title=f"{project} thread")
        items: list[ThreadItem] = [
            seed.user_message(store, thread, context, "private"),
            seed.assistant_message(store, thread, context, "also private"),
        ]
        await seed.add_items(store, thread, context, items)
        return thread.id, [i.id for i in items]

    return server.run(make())


def test_sessions_of_one_project_are_invisible_to_the_other(client, other):
    _, other_sdk = other
    mine = client.beta.chatkit.sessions.create(user="u", workflow={"id": "demo"})
    theirs = other_sdk.beta.chatkit.sessions.create(user="u", workflow={"id": "demo"})
    with pytest.raises(openai.NotFoundError):
        other_sdk.beta.chatkit.sessions.cancel(mine.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.chatkit.sessions.cancel(theirs.id)
    # The failed attempts changed nothing.
    assert client.beta.chatkit.sessions.cancel(mine.id).status == "cancelled"
    assert other_sdk.beta.chatkit.sessions.cancel(theirs.id).status == "cancelled"


def test_threads_of_one_project_are_invisible_to_the_other(server, client, other, user):
    project, other_sdk = other
    mine, my_items = _thread_with_items(server, "default", user)
    theirs, their_items = _thread_with_items(server, project, user)

    # Same user id in both projects: the listing still splits by project.
    assert [t.id for t in client.beta.chatkit.threads.list(user=user)] == [mine]
    assert [t.id for t in other_sdk.beta.chatkit.threads.list(user=user)] == [theirs]
    assert [t.id for t in other_sdk.beta.chatkit.threads.list(limit=100)] == [theirs]
    assert theirs not in {t.id for t in client.beta.chatkit.threads.list(limit=100)}

    for sdk, foreign in ((other_sdk, mine), (client, theirs)):
        with pytest.raises(openai.NotFoundError):
            sdk.beta.chatkit.threads.retrieve(foreign)
        with pytest.raises(openai.NotFoundError):
            sdk.beta.chatkit.threads.list_items(foreign)
        with pytest.raises(openai.NotFoundError):
            sdk.beta.chatkit.threads.delete(foreign)

    # The other project's ids are unknown cursors, not a way to probe.
    for param in ("after", "before"):
        with pytest.raises(openai.BadRequestError) as caught:
            other_sdk.beta.chatkit.threads.list(**{param: mine})
        assert caught.value.param == param
        with pytest.raises(openai.BadRequestError) as caught:
            other_sdk.beta.chatkit.threads.list_items(theirs, **{param: my_items[0]})
        assert caught.value.param == param

    # Nothing was deleted by the refused attempts.
    assert client.beta.chatkit.threads.retrieve(mine).title == "default thread"
    assert [i.id for i in client.beta.chatkit.threads.list_items(mine, order="asc")] == my_items
    assert [i.id for i in other_sdk.beta.chatkit.threads.list_items(theirs, order="asc")] == their_items


def test_a_revoked_key_of_one_project_leaves_the_other_working(server, client):
    db = server.platform.db
    project = f"revoked_{uuid.uuid4().hex[:8]}"
    token, record = server.run(keys.create_key(db, project))
    server.run(keys.revoke_key(db, record.id))
    with server.sdk(token) as sdk, pytest.raises(openai.AuthenticationError):
        sdk.beta.chatkit.threads.list()
    assert client.beta.chatkit.threads.list(limit=1).object == "list"
