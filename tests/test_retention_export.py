"""Retention and export, the data-protection commands, on a real server's data (SQLite and PostgreSQL).

Threads are made through the conversation endpoint, as users make them; a thread is made idle
by moving its last activity back in the database (the one thing a test cannot wait for). Then
``chatkitd retention`` and ``chatkitd export`` run as an operator runs them, and what is left
is read back through the SDK, the traces API and the storage folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from chatkitd.cli import main
from tests.support.chat import Chat, new_session, user_input
from tests.support.servers import RunningServer, fresh_database, start_server

ADMIN = "ck-admin-retention-tests-0000000000000000000000000"
UPLOADS = {"file_upload": {"enabled": True, "max_file_size": 1, "max_files": 10}}
DAY = 86_400
OPENED: list[Chat] = []


@pytest.fixture(autouse=True)
def close_chats() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path / "chatkitd.db", "retention") as url:
        yield url


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    with start_server(database_url, tmp_path, ADMIN, retention_interval=0) as running:
        yield running


def cli(database_url: str, data_dir: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        main, [*args, "--database-url", database_url, "--data-dir", str(data_dir)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result


def chat_with_file(server: RunningServer, user: str, text: str) -> tuple[Chat, str, str]:
    """A thread of ``user`` whose first message carries an uploaded file: (chat, thread id, file id)."""
    session = new_session(server.sdk(ADMIN), user, chatkit_configuration=UPLOADS)
    chat = Chat(server, session.client_secret)
    uploaded = chat.http.post("/v1/chatkit/files", files={"file": ("notes.txt", b"hello", "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    file_id = uploaded.json()["id"]
    stream = chat.stream("threads.create", input=user_input(text, [file_id]))
    OPENED.append(chat)
    return chat, stream.thread_id, file_id


def idle_for(server: RunningServer, thread_id: str, days: float) -> None:
    async def backdate() -> None:
        async with server.platform.db.write() as conn:
            await conn.execute(
                sa.text("UPDATE threads SET updated_at = :at WHERE id = :id"),
                {"at": time.time() - days * DAY, "id": thread_id},
            )

    server.run(backdate())


def stored_files(server: RunningServer, file_id: str) -> list[Path]:
    return list(server.settings.blob_dir.glob(f"*/{file_id}"))


def traces_of(server: RunningServer, thread_id: str) -> list[dict[str, Any]]:
    response = httpx2.get(
        f"{server.base_url}/v1/chatkit/traces",
        params={"thread_id": thread_id},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_retention_deletes_idle_threads_with_their_files_and_traces(server, database_url, tmp_path):
    sdk = server.sdk(ADMIN)
    _, old, old_file = chat_with_file(server, "ada", "an old conversation")
    _, recent, recent_file = chat_with_file(server, "ada", "a recent one")
    idle_for(server, old, days=31)
    idle_for(server, recent, days=29)
    assert stored_files(server, old_file) and traces_of(server, old)

    # No policy: nothing is swept.
    assert "deleted" not in cli(database_url, tmp_path, "retention", "run").output
    cli(database_url, tmp_path, "retention", "set", "30")
    assert cli(database_url, tmp_path, "retention", "list").output == "default\t30 days\n"

    dry = cli(database_url, tmp_path, "retention", "run", "--dry-run").output
    assert dry.splitlines() == ["default: would delete 1 threads idle for more than 30 days", f"  {old}"]
    assert sdk.beta.chatkit.threads.retrieve(old).id == old  # a dry run deletes nothing

    swept = cli(database_url, tmp_path, "retention", "run").output
    assert swept.splitlines() == ["default: deleted 1 threads idle for more than 30 days", f"  {old}"]
    with pytest.raises(openai.NotFoundError):
        sdk.beta.chatkit.threads.retrieve(old)
    assert stored_files(server, old_file) == []
    assert traces_of(server, old) == []
    # The thread that is still in use keeps everything.
    assert sdk.beta.chatkit.threads.retrieve(recent).id == recent
    assert stored_files(server, recent_file) and traces_of(server, recent)

    # Cleared, nothing more is swept, however old.
    cli(database_url, tmp_path, "retention", "clear")
    idle_for(server, recent, days=400)
    assert "deleted" not in cli(database_url, tmp_path, "retention", "run").output
    assert sdk.beta.chatkit.threads.retrieve(recent).id == recent


def test_the_server_sweeps_by_itself(database_url, tmp_path):
    with start_server(database_url, tmp_path, ADMIN, retention_interval=0) as first:
        _, thread_id, _ = chat_with_file(first, "ada", "soon forgotten")
        idle_for(first, thread_id, days=3)
    cli(database_url, tmp_path, "retention", "set", "2")
    # A server with sweeps on deletes it on its own, at start and then every interval.
    with start_server(database_url, tmp_path, ADMIN, retention_interval=0.2) as sweeping:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                sweeping.sdk(ADMIN).beta.chatkit.threads.retrieve(thread_id)
            except openai.NotFoundError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the server never swept the idle thread")


def test_export_writes_one_users_data_as_json_lines(server, database_url, tmp_path):
    chat, thread_id, file_id = chat_with_file(server, "ada", "my own words")
    [answer] = server.sdk(ADMIN).beta.chatkit.threads.list_items(thread_id, order="desc", limit=1).data
    chat.call("items.feedback", thread_id=thread_id, item_ids=[answer.id], kind="positive")
    _, others, _ = chat_with_file(server, "bob", "someone else's words")

    output = tmp_path / "ada.jsonl"
    result = cli(database_url, tmp_path, "export", "--user", "ada", "--output", str(output))
    records = [json.loads(line) for line in output.read_text().splitlines()]
    assert f"# {len(records)} records of user 'ada'" in result.stderr

    threads = [r for r in records if r["object"] == "chatkit.thread"]
    assert [t["id"] for t in threads] == [thread_id]
    assert threads[0] == server.sdk(ADMIN).beta.chatkit.threads.retrieve(thread_id).model_dump(mode="json")
    texts = [
        part["text"]
        for r in records
        if r["object"] == "chatkit.thread_item" and r["type"] == "chatkit.user_message"
        for part in r["content"]
    ]
    assert texts == ["my own words"]
    assert [(a["id"], a["name"], a["thread_id"]) for a in records if a["object"] == "chatkit.attachment"] == [
        (file_id, "notes.txt", thread_id)
    ]
    assert [(f["item_id"], f["kind"]) for f in records if f["object"] == "chatkit.feedback"] == [
        (answer.id, "positive")
    ]
    assert others not in output.read_text() and "someone else" not in output.read_text()

    # Standard output by default; an unknown project is one line, not a traceback.
    assert CliRunner().invoke(main, ["export", "--user", "ada", "--database-url", database_url]).stdout.count(
        "\n"
    ) == len(records)
    unknown = CliRunner().invoke(
        main, ["export", "--user", "ada", "--project", "nope", "--database-url", database_url]
    )
    assert unknown.exit_code == 1 and "No project named 'nope'" in unknown.output
