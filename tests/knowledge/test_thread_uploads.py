"""A workflow with ``thread_uploads: {index: true}``: a document attached in the chat is indexed into a
store of that thread and searched, not pasted; it reaches no other thread, and goes with the thread.

The model is the fake OpenAI-compatible server over real HTTP of the handbook test: asked a
question, it calls ``file_search``; given hits, it answers with the best-matching sentence, cited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select

from chatkitd.knowledge import tables
from tests.conftest import ADMIN_KEY
from tests.knowledge.test_file_search_workflow import looks_it_up
from tests.support import documents
from tests.support.chat import Chat, Stream, new_session, user_input
from tests.support.fake_llm import fake_llm
from tests.support.harness import deploy_yaml

FACT = "The badge office code for night shifts is QV-9031."
FILLER = [
    "Staff read the safety notes before they enter the workshop floor.",
    "Meeting rooms are booked through the calendar of the building.",
    "The library keeps printed manuals for every machine in the plant.",
]
# A long PDF: the fact sits in the middle of several chunks' worth of other text.
LINES = [*(FILLER * 30), FACT, *(FILLER * 30)]
UPLOADS = {"file_upload": {"enabled": True, "max_file_size": 2, "max_files": 10}}
QUESTION = "What is the badge office code for night shifts?"
WORKFLOW = """
id: {id}
instructions: Answer from the files the user attaches. Always search them first.
model: fake-model
provider: {{type: chat_completions, base_url: "{base_url}"}}
thread_uploads: {{index: true, max_num_results: 3}}
"""


def _deploy(server, fake, workflow_id: str = "thread-files") -> str:  # noqa: ANN001
    server.run(deploy_yaml(server.platform, WORKFLOW.format(id=workflow_id, base_url=fake.base_url)))
    return workflow_id


def _chat(server, client, user: str, workflow_id: str) -> Chat:  # noqa: ANN001
    session = new_session(client, user, workflow={"id": workflow_id}, chatkit_configuration=UPLOADS)
    return Chat(server, session.client_secret)


def _upload(chat: Chat, name: str, data: bytes, mime: str) -> str:
    response = chat.http.post("/v1/chatkit/files", files={"file": (name, data, mime)})
    assert response.status_code == 200, response.text
    return response.json()["id"]


@contextmanager
def _asked_with_the_pdf(server, client, user: str, workflow_id: str) -> Iterator[Asked]:  # noqa: ANN001
    """A thread started with QUESTION and the long PDF attached; the chat stays open inside."""
    with fake_llm(reply=looks_it_up) as fake:
        _deploy(server, fake, workflow_id)
        with _chat(server, client, user, workflow_id) as chat:
            upload = _upload(chat, "badges.pdf", documents.pdf(LINES), "application/pdf")
            yield Asked(fake, chat, upload, chat.create(QUESTION, attachments=[upload]))


@dataclass
class Asked:
    fake: Any
    chat: Chat
    upload: str
    stream: Stream


def _streamed(fake) -> list[dict[str, Any]]:  # noqa: ANN001
    return [r["body"] for r in fake.requests if r["body"].get("stream")]


def _rows(server, table: Any, **where: str) -> int:  # noqa: ANN001
    async def count() -> int:
        condition = [getattr(table.c, column) == value for column, value in where.items()]
        async with server.platform.db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(table).where(*condition)) or 0)

    return server.run(count())


def _thread_store(server, thread_id: str) -> str | None:  # noqa: ANN001
    S = tables.vector_stores

    async def find() -> str | None:
        async with server.platform.db.read() as conn:
            return await conn.scalar(select(S.c.id).where(S.c.thread_id == thread_id))

    return server.run(find())


def test_a_long_pdf_attached_in_the_chat_is_searched_not_pasted_and_cited(server, client, user):
    workflow_id = "thread-files"
    with _asked_with_the_pdf(server, client, user, workflow_id) as asked_once:
        fake, upload, stream, secret = (
            asked_once.fake,
            asked_once.upload,
            asked_once.stream,
            asked_once.chat.secret,
        )
    answer = stream.done_items("assistant_message")[-1]
    text = answer["content"][0]["text"]
    assert "QV-9031" in text
    asked, answered = _streamed(fake)[:2]
    # The PDF was not pasted: the first request holds only a note that it is indexed.
    assert "QV-9031" not in json.dumps(asked) and "Meeting rooms" not in json.dumps(asked)
    assert "badges.pdf" in json.dumps(asked) and "indexed for search" in json.dumps(asked)
    assert "file_search" in json.dumps(asked["tools"])
    tool_output = answered["messages"][-1]
    assert tool_output["role"] == "tool" and "QV-9031" in tool_output["content"]
    # Cited by the upload's name; the citation opens the upload for this thread's user alone.
    [annotation] = answer["content"][0]["annotations"]
    assert annotation["source"]["filename"] == "badges.pdf" and annotation["source"]["group"] == upload
    thread_id = stream.thread_id
    opened = httpx2.get(
        f"{server.base_url}/v1/chatkit/sources/{upload}",
        params={"thread_id": thread_id},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert opened.status_code == 200, opened.text
    assert FACT in opened.json()["text"] and opened.json()["filename"] == "badges.pdf"
    content = httpx2.get(opened.json()["content_url"])
    assert content.status_code == 200 and content.content == documents.pdf(LINES)
    neighbour = new_session(client, user + "_n", workflow={"id": workflow_id})
    refused = httpx2.get(
        f"{server.base_url}/v1/chatkit/sources/{upload}",
        params={"thread_id": thread_id},
        headers={"Authorization": f"Bearer {neighbour.client_secret}"},
    )
    assert refused.status_code == 404
    # The thread's store is no project store: the Vector stores API neither lists nor opens it.
    store_id = _thread_store(server, thread_id)
    assert store_id is not None
    assert store_id not in [s.id for s in client.vector_stores.list(limit=100)]
    missing = httpx2.get(
        f"{server.base_url}/v1/vector_stores/{store_id}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "vector_store_id"


def test_another_thread_never_searches_this_threads_uploads(server, client, user):
    workflow_id = "thread-files-isolated"
    with _asked_with_the_pdf(server, client, user, workflow_id) as asked:
        fake, first = asked.fake, asked.stream
        assert "QV-9031" in first.text()
        # The same user's next thread has no such upload: nothing to find.
        second = asked.chat.create(QUESTION)
        # Nor has another user's thread, in the same workflow.
        with _chat(server, client, user + "_other", workflow_id) as other:
            third = other.create(QUESTION)
        # A workflow that names the store in its own file_search reaches nothing either.
        store_id = _thread_store(server, first.thread_id)
        named = f"""
id: names-a-thread-store
instructions: Search.
model: fake-model
provider: {{type: chat_completions, base_url: "{fake.base_url}"}}
tools:
  - file_search: {{vector_store_ids: ["{store_id}"]}}
"""
        server.run(deploy_yaml(server.platform, named))
        with _chat(server, client, user, "names-a-thread-store") as chat:
            fourth = chat.create(QUESTION)
    for stream in (second, third, fourth):
        assert "QV-9031" not in stream.text()
    outputs = [m for body in _streamed(fake) for m in body["messages"] if m["role"] == "tool"]
    assert sum("QV-9031" in m["content"] for m in outputs) == 1  # the first thread's search alone


def test_a_corrupt_pdf_is_said_to_the_model_and_the_server_goes_on(server, client, user):
    with fake_llm(reply=looks_it_up) as fake:
        workflow_id = _deploy(server, fake, "thread-files-corrupt")
        with _chat(server, client, user, workflow_id) as chat:
            broken = _upload(chat, "broken.pdf", b"%PDF-1.4\nthis is not a pdf", "application/pdf")
            good = _upload(chat, "badges.pdf", documents.pdf(LINES), "application/pdf")
            stream = chat.create(QUESTION, attachments=[broken, good])
    assert "QV-9031" in stream.text()
    tool_output = next(
        m["content"] for body in _streamed(fake) for m in body["messages"] if m["role"] == "tool"
    )
    assert "broken.pdf could not be read" in tool_output


def test_the_threads_index_goes_with_the_thread(server, client, user):
    with _asked_with_the_pdf(server, client, user, "thread-files-deleted") as asked:
        thread_id, upload = asked.stream.thread_id, asked.upload
        store_id = _thread_store(server, thread_id)
        assert store_id is not None
        assert _rows(server, tables.knowledge_chunks, vector_store_id=store_id) > 1
        project_id = _project(server, thread_id)
        assert server.run(server.platform.knowledge.files.text(project_id, upload)) is not None
        asked.chat.call("threads.delete", thread_id=thread_id)
    assert _thread_store(server, thread_id) is None
    assert _rows(server, tables.knowledge_chunks, vector_store_id=store_id) == 0
    assert _rows(server, tables.knowledge_vectors, vector_store_id=store_id) == 0
    assert _rows(server, tables.vector_store_files, vector_store_id=store_id) == 0
    assert server.run(server.platform.knowledge.files.text(project_id, upload)) is None


def test_a_message_removed_by_a_retry_takes_its_files_out_of_the_store(server, client, user):
    with fake_llm(reply=looks_it_up) as fake:
        workflow_id = _deploy(server, fake, "thread-files-retried")
        with _chat(server, client, user, workflow_id) as chat:
            first = chat.create("Hello there, what can you search?")
            thread_id = first.thread_id
            [message] = first.done_items("user_message")
            upload = _upload(chat, "badges.pdf", documents.pdf(LINES), "application/pdf")
            chat.stream("threads.add_user_message", thread_id=thread_id, input=user_input(QUESTION, [upload]))
            store_id = _thread_store(server, thread_id)
            assert store_id is not None
            assert _rows(server, tables.vector_store_files, vector_store_id=store_id, id=upload) == 1
            chat.stream("threads.retry_after_item", thread_id=thread_id, item_id=message["id"])
    assert _rows(server, tables.vector_store_files, vector_store_id=store_id, id=upload) == 0
    assert _rows(server, tables.knowledge_chunks, vector_store_id=store_id, file_id=upload) == 0


def test_retention_deletes_the_threads_index(server, client, user):
    from chatkitd.store import retention
    from chatkitd.store import tables as store_tables

    with _asked_with_the_pdf(server, client, user, "thread-files-retention") as asked:
        thread_id = asked.stream.thread_id
    store_id = _thread_store(server, thread_id)
    assert store_id is not None
    project_id = _project(server, thread_id)
    T = store_tables.threads

    async def age_and_sweep() -> None:
        db = server.platform.db
        async with db.write() as conn:
            await conn.execute(T.update().where(T.c.id == thread_id).values(updated_at=0.0))
        await retention.set_policy(db, project_id, 30)
        try:
            await retention.sweep(db, server.platform.threads, project_id)
        finally:
            await retention.set_policy(db, project_id, None)

    server.run(age_and_sweep())
    assert _thread_store(server, thread_id) is None
    assert _rows(server, tables.knowledge_chunks, vector_store_id=store_id) == 0


def _project(server, thread_id: str) -> str:  # noqa: ANN001
    from chatkitd.store import tables as store_tables

    T = store_tables.threads

    async def of_thread() -> str:
        async with server.platform.db.read() as conn:
            return str(await conn.scalar(select(T.c.project_id).where(T.c.id == thread_id)))

    return server.run(of_thread())


@pytest.mark.parametrize("value", ["yes", {"index": True, "max_num_results": 0}, {"indexed": True}])
def test_thread_uploads_is_validated_at_deploy(value):
    from chatkitd.errors import InvalidRequest
    from chatkitd.workflows.definitions import parse_yaml

    with pytest.raises(InvalidRequest) as caught:
        parse_yaml(json.dumps({"id": "bad", "thread_uploads": value}))
    assert (caught.value.param or "").startswith("thread_uploads")


PYTHON_WORKFLOW = """
from agents import Agent, FileSearchTool

ID = "thread-files-python"
THREAD_UPLOADS = {{"index": True}}
PROVIDER = {{"type": "chat_completions", "base_url": "{base_url}"}}


def build_agent(run):
    tools = [FileSearchTool(vector_store_ids=[])]
    return Agent(name="Files", instructions="Search first.", model="fake-model", tools=tools)
"""


def test_a_python_workflow_indexes_and_searches_its_threads_uploads(server, client, user, tmp_path):
    from chatkitd.workflows.deploy import deploy_file

    with fake_llm(reply=looks_it_up) as fake:
        path = tmp_path / "thread_files_python.py"
        path.write_text(PYTHON_WORKFLOW.format(base_url=fake.base_url))
        server.run(deploy_file(server.platform.workflows, "default", path))
        with _chat(server, client, user, "thread-files-python") as chat:
            upload = _upload(chat, "badges.pdf", documents.pdf(LINES), "application/pdf")
            stream = chat.create(QUESTION, attachments=[upload])
    assert "QV-9031" in stream.text()
    asked = _streamed(fake)[0]
    assert "QV-9031" not in json.dumps(asked) and "indexed for search" in json.dumps(asked)
    [annotation] = stream.done_items("assistant_message")[-1]["content"][0]["annotations"]
    assert annotation["source"]["group"] == upload
