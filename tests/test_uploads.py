"""Uploads: two-phase and direct, the session's file limits, previews, and deletion."""

from __future__ import annotations

import httpx2
import openai
import pytest

from tests.support.chat import DELETED, error_of, user_input

MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
UPLOADS = {"file_upload": {"enabled": True, "max_file_size": 1, "max_files": 10}}


def _on_disk(server, attachment_id: str) -> list:
    """The attachment's stored bytes (a two-phase upload's blob is named after its id)."""
    found = server.settings.blob_dir.glob(f"*/{attachment_id}*")
    return [p for p in found if not p.name.endswith(".partial")]


def _direct(chat, data: bytes, name: str = "notes.txt", mime: str = "text/plain") -> httpx2.Response:
    return chat.http.post("/v1/chatkit/files", files={"file": (name, data, mime)})


def test_uploads_disabled_are_refused(user, chat_for):
    chat = chat_for(user)  # file_upload defaults to disabled
    created = chat.post("attachments.create", name="a.txt", size=3, mime_type="text/plain")
    assert created.status_code == 400 and error_of(created)["code"] == "file_upload_disabled"
    direct = _direct(chat, b"abc")
    assert direct.status_code == 400 and error_of(direct)["code"] == "file_upload_disabled"


def test_two_phase_upload_then_use_in_a_message(server, client, user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    created = chat.call("attachments.create", name="notes.txt", size=5, mime_type="text/plain")
    assert created["id"].startswith("atc_") and created["type"] == "file"
    descriptor = created["upload_descriptor"]
    assert descriptor["method"] == "POST" and "signature=" in descriptor["url"]
    assert "metadata" not in created

    # The signed URL is the credential: no client secret needed.
    uploaded = httpx2.post(descriptor["url"], files={"file": ("notes.txt", b"hello", "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["id"] == created["id"] and "upload_descriptor" not in uploaded.json()
    [path] = _on_disk(server, created["id"])
    assert path.read_bytes() == b"hello"
    again = httpx2.post(descriptor["url"], files={"file": ("notes.txt", b"again", "text/plain")})
    assert again.status_code == 409 and error_of(again)["code"] == "already_uploaded"

    stream = chat.stream("threads.create", input=user_input("see attached", [created["id"]]))
    message = stream.done_items("user_message")[0]
    assert [a["id"] for a in message["attachments"]] == [created["id"]]
    assert message["attachments"][0]["thread_id"] == stream.thread_id
    assert "metadata" not in message["attachments"][0]
    rest = client.beta.chatkit.threads.list_items(stream.thread_id, order="asc").data[0]
    assert [(a.id, a.name, a.mime_type) for a in rest.attachments] == [
        (created["id"], "notes.txt", "text/plain")
    ]


def test_bad_upload_signature_is_refused(user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    created = chat.call("attachments.create", name="a.txt", size=1, mime_type="text/plain")
    url = created["upload_descriptor"]["url"]
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    response = httpx2.post(tampered, files={"file": ("a.txt", b"a", "text/plain")})
    assert response.status_code == 401 and error_of(response)["code"] == "invalid_signature"
    unsigned = httpx2.post(url.split("?")[0], files={"file": ("a.txt", b"a", "text/plain")})
    assert unsigned.status_code == 401


def test_declared_size_over_the_limit_is_413(user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    response = chat.post("attachments.create", name="big.bin", size=MIB + 1, mime_type="application/pdf")
    assert response.status_code == 413
    assert (error_of(response)["param"], error_of(response)["code"]) == ("params.size", "file_too_large")
    assert (
        chat.post("attachments.create", name="ok.bin", size=MIB, mime_type="application/pdf").status_code
        == 200
    )


@pytest.mark.parametrize("strategy", ["direct", "two-phase"])
def test_one_byte_over_the_limit_is_413_and_leaves_nothing(server, user, chat_for, strategy):
    """max_file_size is in MB of 1024 x 1024 bytes: 1 MB admits 1,048,576 bytes exactly."""
    chat = chat_for(user, chatkit_configuration=UPLOADS)

    def upload(data: bytes) -> httpx2.Response:
        if strategy == "direct":
            return _direct(chat, data, "blob.bin", "application/octet-stream")
        # The declared size may lie; the bytes are checked again as they stream.
        created = chat.call(
            "attachments.create", name="blob.bin", size=10, mime_type="application/octet-stream"
        )
        return httpx2.post(
            created["upload_descriptor"]["url"],
            files={"file": ("blob.bin", data, "application/octet-stream")},
        )

    over = upload(b"x" * (MIB + 1))
    assert over.status_code == 413, over.text
    assert error_of(over)["code"] == "file_too_large"
    assert not [p for p in server.settings.blob_dir.glob("*/*") if p.name.endswith(".partial")]

    exact = upload(b"x" * MIB)
    assert exact.status_code == 200, exact.text
    [path] = _on_disk(server, exact.json()["id"])
    assert path.stat().st_size == MIB


def test_content_length_far_over_the_limit_is_refused_early(user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    response = chat.http.post(
        "/v1/chatkit/files",
        content=b"x" * (2 * MIB),
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 413


def test_max_files_counts_the_sessions_uploads(user, chat_for):
    chat = chat_for(user, chatkit_configuration={"file_upload": {"enabled": True, "max_files": 2}})
    assert _direct(chat, b"one").status_code == 200
    assert chat.post("attachments.create", name="two", size=3, mime_type="text/plain").status_code == 200
    third = _direct(chat, b"three")
    assert third.status_code == 400 and error_of(third)["code"] == "max_files_exceeded"
    fourth = chat.post("attachments.create", name="four", size=4, mime_type="text/plain")
    assert fourth.status_code == 400


def test_not_multipart_is_400(user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    response = chat.http.post("/v1/chatkit/files", content=b"abc", headers={"content-type": "text/plain"})
    assert response.status_code == 400 and error_of(response)["param"] == "file"
    no_file = chat.http.post("/v1/chatkit/files", files={"other": ("a.txt", b"abc", "text/plain")})
    assert no_file.status_code == 400 and "no 'file' field" in error_of(no_file)["message"]


def test_image_preview_is_served_by_signed_url_only(user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    uploaded = _direct(chat, PNG, "pixel.png", "image/png")
    assert uploaded.status_code == 200
    image = uploaded.json()
    assert image["type"] == "image" and "/preview?" in image["preview_url"]
    preview = httpx2.get(image["preview_url"])
    assert preview.status_code == 200
    assert preview.content == PNG and preview.headers["content-type"] == "image/png"

    base, _, query = image["preview_url"].partition("?")
    assert httpx2.get(base).status_code == 401
    assert httpx2.get(base + "?" + query.replace("signature=", "signature=0")).status_code == 401
    other = _direct(chat, PNG, "other.png", "image/png").json()
    # A valid signature for one attachment opens no other.
    stolen = other["preview_url"].split("?")[0] + "?" + query
    assert httpx2.get(stolen).status_code == 401
    # Text files get no preview.
    assert "preview_url" not in _direct(chat, b"text").json()


def test_a_preview_cannot_run_script_on_chatkitds_origin(user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'
    image = _direct(chat, svg, "x.svg", "image/svg+xml").json()
    preview = httpx2.get(image["preview_url"])
    assert preview.status_code == 200 and preview.content == svg
    assert "sandbox" in preview.headers["content-security-policy"]
    assert "default-src 'none'" in preview.headers["content-security-policy"]
    assert preview.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("declared", "stored"),
    [
        ("image/png\r\nSet-Cookie: evil=1", "application/octet-stream"),  # a header split
        ("", "application/octet-stream"),  # what a browser declares for an unknown file
        ("image/png; name=x", "image/png"),
        ("text/plain", "text/plain"),
    ],
)
def test_declared_mime_types_are_media_types(user, chat_for, declared, stored):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    created = chat.call("attachments.create", name="a.png", size=3, mime_type=declared)
    assert created["mime_type"] == stored
    uploaded = httpx2.post(
        created["upload_descriptor"]["url"], files={"file": ("a.png", b"abc", "image/png")}
    )
    assert uploaded.status_code == 200 and uploaded.json()["mime_type"] == stored
    if stored.startswith("image/"):
        assert httpx2.get(uploaded.json()["preview_url"]).headers["content-type"] == stored
    else:
        assert "preview_url" not in uploaded.json()


def test_attachments_delete_removes_bytes_for_the_owner_only(server, user, chat_for):
    owner = chat_for(user, chatkit_configuration=UPLOADS)
    attachment_id = _direct(owner, b"secret").json()["id"]
    stranger = chat_for(user + "_x", chatkit_configuration=UPLOADS)
    # Idempotent, as chatkit's reference: someone else's id answers as a missing one does,
    # so the stranger learns nothing, and deletes nothing.
    assert stranger.deleted("attachments.delete", attachment_id=attachment_id) == DELETED
    assert stranger.deleted("attachments.delete", attachment_id="atc_" + "0" * 32) == DELETED
    [blob] = _on_disk(server, attachment_id)
    assert blob.read_bytes() == b"secret"
    mine = owner.post("threads.create", input=user_input("still mine", [attachment_id]))
    assert mine.status_code == 200, mine.text

    other = _direct(owner, b"other").json()["id"]
    assert owner.deleted("attachments.delete", attachment_id=other) == DELETED
    assert not _on_disk(server, other)
    # A second delete, and one of an id that never was, answer the same.
    assert owner.deleted("attachments.delete", attachment_id=other) == DELETED
    assert owner.deleted("attachments.delete", attachment_id="atc_" + "1" * 32) == DELETED
    # The record is gone: a message can no longer take it.
    gone = owner.post("threads.create", input=user_input("look", [other]))
    assert gone.status_code == 404 and error_of(gone)["param"] == "params.input.attachments[0]"


def test_threads_delete_is_idempotent_and_leaves_others_threads_whole(server, client, user, chat_for):
    owner = chat_for(user, chatkit_configuration=UPLOADS)
    attached = _direct(owner, b"kept bytes").json()["id"]
    thread_id = owner.stream("threads.create", input=user_input("keep", [attached])).thread_id
    stranger = chat_for(user + "_z", chatkit_configuration=UPLOADS)
    missing = "cthr_" + "0" * 32
    assert stranger.deleted("threads.delete", thread_id=thread_id) == DELETED
    assert stranger.deleted("threads.delete", thread_id=missing) == DELETED
    # The owner's thread, its items and its file's bytes are all still there.
    thread = owner.call("threads.get_by_id", thread_id=thread_id)
    assert thread["title"] == "keep" and len(thread["items"]["data"]) == 2
    [blob] = _on_disk(server, attached)
    assert blob.read_bytes() == b"kept bytes"

    assert owner.deleted("threads.delete", thread_id=thread_id) == DELETED
    assert owner.post("threads.get_by_id", thread_id=thread_id).status_code == 404
    assert not _on_disk(server, attached)
    assert owner.deleted("threads.delete", thread_id=thread_id) == DELETED
    assert owner.deleted("threads.delete", thread_id=missing) == DELETED
    # REST keeps OpenAI's answer: a thread that is not there is a 404.
    with pytest.raises(openai.NotFoundError):
        client.beta.chatkit.threads.delete(thread_id)


def test_deleting_a_thread_deletes_its_files(server, client, user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    first = _direct(chat, b"one").json()["id"]
    second = _direct(chat, PNG, "p.png", "image/png").json()["id"]
    thread_id = chat.stream("threads.create", input=user_input("two files", [first, second])).thread_id
    assert _on_disk(server, first) and _on_disk(server, second)
    assert chat.call("threads.delete", thread_id=thread_id) == {}
    assert not _on_disk(server, first) and not _on_disk(server, second)

    # The REST delete does the same.
    third = _direct(chat, b"three").json()["id"]
    other_thread = chat.stream("threads.create", input=user_input("one file", [third])).thread_id
    client.beta.chatkit.threads.delete(other_thread)
    assert not _on_disk(server, third)


def test_uploads_need_an_active_session(client, user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    created = chat.call("attachments.create", name="late.txt", size=4, mime_type="text/plain")
    client.beta.chatkit.sessions.cancel(chat.session.id)
    direct = _direct(chat, b"late")
    assert direct.status_code == 401 and error_of(direct)["code"] == "session_cancelled"
    signed = httpx2.post(
        created["upload_descriptor"]["url"], files={"file": ("late.txt", b"late", "text/plain")}
    )
    assert signed.status_code == 401 and error_of(signed)["code"] == "session_cancelled"


def test_uploads_count_toward_the_rate_limit(user, chat_for):
    config = {"chatkit_configuration": UPLOADS, "rate_limits": {"max_requests_per_1_minute": 2}}
    chat = chat_for(user, **config)
    assert _direct(chat, b"1").status_code == 200
    assert _direct(chat, b"2").status_code == 200
    third = _direct(chat, b"3")
    assert third.status_code == 429 and "retry-after" in third.headers


def test_messages_only_take_the_users_uploaded_attachments(user, chat_for):
    owner = chat_for(user, chatkit_configuration=UPLOADS)
    mine = _direct(owner, b"mine").json()["id"]
    pending = owner.call("attachments.create", name="later.txt", size=5, mime_type="text/plain")["id"]
    stranger = chat_for(user + "_y", chatkit_configuration=UPLOADS)

    stolen = stranger.post("threads.create", input=user_input("look", [mine]))
    assert stolen.status_code == 404 and error_of(stolen)["param"] == "params.input.attachments[0]"
    early = owner.post("threads.create", input=user_input("look", [mine, pending]))
    assert early.status_code == 422 and error_of(early)["code"] == "attachment_not_uploaded"
    # Neither refusal left a thread behind.
    assert owner.call("threads.list")["data"] == [] and stranger.call("threads.list")["data"] == []


def test_retrying_removes_the_files_of_the_messages_it_removes(server, client, user, chat_for):
    chat = chat_for(user, chatkit_configuration=UPLOADS)
    first = chat.stream("threads.create", input=user_input("first, no file"))
    thread_id, first_message = first.thread_id, first.done_items("user_message")[0]["id"]
    attached = _direct(chat, b"a later file").json()["id"]
    later = chat.stream(
        "threads.add_user_message", thread_id=thread_id, input=user_input("later", [attached])
    )
    assert [a["id"] for a in later.done_items("user_message")[0]["attachments"]] == [attached]
    assert _on_disk(server, attached)

    # Retrying the first message removes everything after it: the later message and its file.
    chat.stream("threads.retry_after_item", thread_id=thread_id, item_id=first_message)
    items = client.beta.chatkit.threads.list_items(thread_id, order="asc").data
    assert [i.type for i in items] == ["chatkit.user_message", "chatkit.assistant_message"]
    assert items[0].id == first_message
    assert not _on_disk(server, attached)
    # Its record went too: a message can no longer take it.
    gone = chat.post("threads.add_user_message", thread_id=thread_id, input=user_input("again", [attached]))
    assert gone.status_code == 404 and error_of(gone)["param"] == "params.input.attachments[0]"
