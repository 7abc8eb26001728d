"""``client.files`` through the official SDK (strict response validation), on SQLite and PostgreSQL."""

from __future__ import annotations

import http.client
import io
from urllib.parse import urlsplit

import httpx2
import openai
import pytest

from tests.conftest import ADMIN_KEY


def upload(client, name: str = "notes.txt", data: bytes = b"hello knowledge", purpose: str = "assistants"):
    return client.files.create(file=(name, io.BytesIO(data), "text/plain"), purpose=purpose)


def test_create_retrieve_content_and_delete(client):
    created = upload(client, data=b"the handbook says: lunch at noon")
    assert created.object == "file" and created.id.startswith("file-")
    assert (created.filename, created.bytes, created.purpose, created.status) == (
        "notes.txt",
        32,
        "assistants",
        "processed",
    )
    assert client.files.retrieve(created.id) == created
    assert client.files.content(created.id).read() == b"the handbook says: lunch at noon"
    deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (created.id, True, "file")
    with pytest.raises(openai.NotFoundError) as caught:
        client.files.retrieve(created.id)
    assert caught.value.param == "file_id"
    with pytest.raises(openai.NotFoundError):
        client.files.content(created.id)
    with pytest.raises(openai.NotFoundError):
        client.files.delete(created.id)


def test_list_pages_with_after_and_filters_by_purpose(client):
    made = [upload(client, f"f{i}.txt", purpose="user_data") for i in range(5)]
    seen = [f.id for f in client.files.list(purpose="user_data", limit=2)]
    # Newest first, every page continued with after=<last id>, each file once.
    mine = [f for f in seen if f in {m.id for m in made}]
    assert mine == [m.id for m in reversed(made)]
    oldest_first = [f.id for f in client.files.list(purpose="user_data", order="asc", limit=100)]
    assert [f for f in oldest_first if f in mine] == [m.id for m in made]
    assert all(f.purpose == "assistants" for f in client.files.list(purpose="assistants"))


def test_expires_after_is_kept(client):
    created = client.files.create(
        file=("soon.txt", io.BytesIO(b"x"), "text/plain"),
        purpose="assistants",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert created.expires_at == created.created_at + 3600


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"purpose": "fine-tune"}, "purpose"),
        (
            {"purpose": "assistants", "expires_after": {"anchor": "created_at", "seconds": 5}},
            "expires_after.seconds",
        ),
    ],
)
def test_bad_fields_are_400s_naming_the_field(client, kwargs, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client.files.create(file=("a.txt", io.BytesIO(b"a"), "text/plain"), **kwargs)
    assert caught.value.param == param


def test_a_missing_purpose_or_file_is_a_400(server):
    url = f"{server.base_url}/v1/files"
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    no_purpose = httpx2.post(url, headers=headers, files={"file": ("a.txt", b"a", "text/plain")})
    assert no_purpose.status_code == 400 and no_purpose.json()["error"]["param"] == "purpose"
    no_file = httpx2.post(url, headers=headers, data={"purpose": "assistants"}, files={"other": ("a", b"a")})
    assert no_file.status_code == 400 and no_file.json()["error"]["param"] == "file"


def test_an_upload_over_the_limit_stops_at_the_first_byte_over(server, tmp_path):
    from tests.support.servers import start_server

    with start_server(server.settings.database_url, tmp_path, ADMIN_KEY, file_max_bytes=1000) as small:
        with small.sdk(ADMIN_KEY) as sdk:
            assert upload(sdk, data=b"x" * 1000).bytes == 1000
            with pytest.raises(openai.APIStatusError) as caught:
                upload(sdk, data=b"x" * 1001)
            assert caught.value.status_code == 413
            assert caught.value.code == "file_too_large"
            # Declared too large: refused before the body is read.
            assert declared_only(small.base_url, "/v1/files", 10**9) == 413
        # Nothing was kept of the refused upload: only the 1000-byte file's bytes are on disk.
        kept = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
        assert [p.stat().st_size for p in kept] == [1000]


def declared_only(base_url: str, path: str, length: int) -> int:
    """POST headers declaring ``length`` bytes, send none, and return the status."""
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Authorization", f"Bearer {ADMIN_KEY}")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_another_projects_files_are_not_found(server, client):
    from chatkitd.store import keys

    created = upload(client)
    other_key, _ = server.run(keys.create_key(server.platform.db, "files-other"))
    with server.sdk(other_key) as other:
        with pytest.raises(openai.NotFoundError):
            other.files.retrieve(created.id)
        with pytest.raises(openai.NotFoundError):
            other.files.delete(created.id)
        assert created.id not in [f.id for f in other.files.list()]
    assert client.files.retrieve(created.id).id == created.id
