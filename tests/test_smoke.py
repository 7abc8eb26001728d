from tests.support.seed import assistant_message, make_thread, project_context, user_message


def test_thread_written_through_store_is_listed(server, client, user):
    store = server.platform.threads

    async def seed():
        context = await project_context(store, "default", user)
        thread = await make_thread(store, context, title="Hello")
        await store.add_thread_item(thread.id, user_message(store, thread, context, "hi"), context)
        await store.add_thread_item(thread.id, assistant_message(store, thread, context, "yo"), context)
        return thread

    thread = server.run(seed())
    page = client.beta.chatkit.threads.list(user=user)
    assert [t.id for t in page.data] == [thread.id]
    items = client.beta.chatkit.threads.list_items(thread.id, order="asc")
    assert [i.type for i in items.data] == ["chatkit.user_message", "chatkit.assistant_message"]
    assert items.data[0].content[0].text == "hi"
