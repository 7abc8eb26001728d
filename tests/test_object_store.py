"""Uploads in an S3-compatible store (``CHATKITD_STORAGE_URL=s3://…``), against moto's S3 server.

Both upload strategies, previews, what reaches the model, the Files API, deletes that
follow attachments and threads, and the 413 at the limit that leaves nothing in the bucket
(neither an object nor an unfinished multipart upload). Every test runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx2
import pytest

from chatkitd.blobs.s3 import PART_SIZE
from tests.conftest import ADMIN_KEY
from tests.support.chat import error_of, user_input
from tests.support.fake_llm import fake_llm
from tests.support.harness import deploy_yaml
from tests.support.races import distinct_bodies, one_wins
from tests.support.s3 import Bucket, S3Server, environment, moto_server
from tests.support.servers import RunningServer, start_server

MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# 10 MB: a file at the limit is sent in two parts, so the multipart path is exercised.
UPLOADS = {"file_upload": {"enabled": True, "max_file_size": 10, "max_files": 20}}
PREFIX = "uploads"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with moto_server(tmp_path_factory.mktemp("moto")) as running:
        yield running


@pytest.fixture(scope="module")
def bucket(s3: S3Server, database_url: str) -> Bucket:
    return s3.new_bucket()


@pytest.fixture(scope="module")
def server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, s3: S3Server, bucket: Bucket
) -> Iterator[RunningServer]:
    """This module's chatkitd keeps its files in ``bucket`` (and none in its data dir)."""
    data_dir = tmp_path_factory.mktemp("data")
    with (
        environment(s3.env),
        start_server(database_url, data_dir, ADMIN_KEY, storage_url=bucket.url(PREFIX)) as running,
    ):
        yield running


def _direct(chat, data: bytes, name: str = "notes.txt", mime: str = "text/plain") -> httpx2.Response:
    return chat.http.post("/v1/chatkit/files", files={"file": (name, data, mime)})


def _two_phase(chat, data: bytes, name: str = "notes.txt", mime: str = "text/plain") -> httpx2.Response:
    created = chat.call("attachments.create", name=name, size=len(data), mime_type=mime)
    return httpx2.post(created["upload_descriptor"]["url"], files={"file": (name, data, mime)}, timeout=60)


UPLOAD = {"direct": _direct, "two-phase": _two_phase}


def _objects_of(bucket: Bucket, attachment_id: str) -> list[str]:
    """The bucket's objects holding this attachment's bytes (under ``prefix/<project>/``)."""
    return [
        key
        for key in bucket.keys()
        if key.startswith(f"{PREFIX}/") and key.rsplit("/", 1)[-1].startswith(attachment_id)
    ]


@pytest.mark.parametrize("strategy", UPLOAD)
def test_an_upload_lands_in_the_bucket_and_nowhere_else(server, bucket, user, chat_for, strategy):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    response = UPLOAD[strategy](chat, b"hello bucket")
    assert response.status_code == 200, response.text
    attachment = response.json()
    [key] = _objects_of(bucket, attachment["id"])
    assert bucket.read(key) == b"hello bucket"
    assert not (server.settings.data_dir / "blobs").exists()

    # It reaches a message as any upload does.
    stream = chat.stream("threads.create", input=user_input("see attached", [attachment["id"]]))
    assert [a["id"] for a in stream.done_items("user_message")[0]["attachments"]] == [attachment["id"]]


@pytest.mark.parametrize("strategy", UPLOAD)
def test_a_large_upload_streams_in_parts_and_is_whole(server, bucket, user, chat_for, strategy):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    data = bytes(range(256)) * (10 * MIB // 256)  # exactly the limit, more than one part
    assert len(data) > PART_SIZE
    response = UPLOAD[strategy](chat, data, "big.bin", "application/octet-stream")
    assert response.status_code == 200, response.text
    [key] = _objects_of(bucket, response.json()["id"])
    assert bucket.read(key) == data
    assert bucket.unfinished_uploads() == []


@pytest.mark.parametrize("strategy", UPLOAD)
@pytest.mark.parametrize("size", [10 * MIB + 1, 30 * MIB])
def test_over_the_limit_is_413_and_leaves_nothing_in_the_bucket(
    server, bucket, user, chat_for, strategy, size
):
    """One byte over (the last part), and far over (parts already sent): both leave nothing."""
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    before = set(bucket.keys())
    if strategy == "direct":
        # Sent without a Content-Length the server could refuse on: the bytes decide.
        body = _chunked_multipart(size)
        response = chat.http.post(
            "/v1/chatkit/files",
            content=body,
            headers={"content-type": "multipart/form-data; boundary=bound"},
            timeout=60,
        )
    else:
        created = chat.call("attachments.create", name="big.bin", size=10, mime_type="text/plain")
        response = httpx2.post(
            created["upload_descriptor"]["url"],
            content=_chunked_multipart(size),
            headers={"content-type": "multipart/form-data; boundary=bound"},
            timeout=60,
        )
    assert response.status_code == 413, response.text
    assert error_of(response)["code"] == "file_too_large"
    assert set(bucket.keys()) == before
    assert bucket.unfinished_uploads() == []


def _chunked_multipart(size: int) -> Iterator[bytes]:
    yield b'--bound\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    sent = 0
    while sent < size:
        piece = min(MIB, size - sent)
        yield b"x" * piece
        sent += piece
    yield b"\r\n--bound--\r\n"


def test_previews_are_read_from_the_bucket(server, bucket, user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    for strategy in UPLOAD.values():
        image = strategy(chat, PNG, "pixel.png", "image/png").json()
        preview = httpx2.get(image["preview_url"])
        assert preview.status_code == 200
        assert (preview.content, preview.headers["content-type"]) == (PNG, "image/png")
        assert preview.headers["content-length"] == str(len(PNG))


def test_one_upload_link_posted_at_once_stores_one_clients_bytes_whole(server, bucket, user, chat_for):
    # In parts (over PART_SIZE), as a large file goes: one client's bytes, whole, and nothing else
    # left in the bucket by the others (no object, no unfinished multipart upload).
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    created = chat.call("attachments.create", name="race.png", size=PART_SIZE + 2, mime_type="image/png")
    before = set(bucket.keys())
    one_wins(created["upload_descriptor"]["url"], distinct_bodies(4, PART_SIZE + 1))
    assert len(set(bucket.keys()) - before) == 1
    assert bucket.unfinished_uploads() == []


def test_deletes_follow_attachments_and_threads(server, client, bucket, user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    alone = _direct(chat, b"delete me").json()["id"]
    assert _objects_of(bucket, alone)
    assert chat.call("attachments.delete", attachment_id=alone) == {}
    assert not _objects_of(bucket, alone)

    first = _direct(chat, b"one").json()["id"]
    second = _two_phase(chat, PNG, "p.png", "image/png").json()["id"]
    thread_id = chat.stream("threads.create", input=user_input("two files", [first, second])).thread_id
    assert _objects_of(bucket, first) and _objects_of(bucket, second)
    client.beta.chatkit.threads.delete(thread_id)
    assert not _objects_of(bucket, first) and not _objects_of(bucket, second)


def test_an_attachment_reaches_the_model_from_the_bucket(server, client, user):
    """The agent reads the attachment's stored bytes (by its blob key) from the object store."""
    from tests.support.chat import Chat, new_session

    with fake_llm() as fake:
        yaml_text = (
            "id: s3-reader\ninstructions: Read it.\nmodel: plain-text-model\n"
            f'provider: {{type: chat_completions, base_url: "{fake.base_url}"}}\n'
        )
        server.run(deploy_yaml(server.platform, yaml_text))
        session = new_session(client, user, workflow={"id": "s3-reader"}, chatkit_configuration=UPLOADS)
        with Chat(server, session.client_secret) as chat:
            attachment_id = _two_phase(chat, b"the secret word is heliotrope").json()["id"]
            chat.create("What does it say?", attachments=[attachment_id])
    request = [r for r in fake.requests if r["body"].get("stream")][-1]
    content = request["body"]["messages"][-1]["content"]
    text = content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
    assert "heliotrope" in text


def test_the_files_api_keeps_its_bytes_in_the_bucket(server, client, bucket):
    created = client.files.create(
        file=("kb.txt", io.BytesIO(b"lunch at noon"), "text/plain"), purpose="assistants"
    )
    [key] = [k for k in bucket.keys() if k.endswith(f"/{created.id}")]
    assert bucket.read(key) == b"lunch at noon"
    assert client.files.content(created.id).read() == b"lunch at noon"
    client.files.delete(created.id)
    assert not [k for k in bucket.keys() if created.id in k]


def test_an_unreachable_store_is_a_503_not_a_500(database_url, tmp_path, s3, user):
    """A bucket that does not exist (or a store that is down) answers 503 with Retry-After."""
    from tests.support.chat import Chat, new_session

    with (
        environment(s3.env),
        start_server(database_url, tmp_path, ADMIN_KEY, storage_url="s3://no-such-bucket/x") as running,
        running.sdk(ADMIN_KEY) as sdk,
    ):
        session = new_session(sdk, user, chatkit_configuration=UPLOADS)
        with Chat(running, session.client_secret) as chat:
            response = _direct(chat, b"nowhere to go")
        assert response.status_code == 503, response.text
        assert error_of(response)["code"] == "storage_unavailable" and "retry-after" in response.headers
