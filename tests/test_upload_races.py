"""Uploads under concurrency: one signed link posted by several clients at once, and ``max_files``
raced by parallel uploads, in one process and across two ``chatkitd serve`` processes sharing a
database (and a data dir). Each limit must hold; no request answers 500.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from openai import OpenAI

from tests.support.chat import error_of, new_session
from tests.support.processes import serve_process
from tests.support.races import PNG_HEADER, all_at_once, distinct_bodies, one_wins, upload_to
from tests.support.servers import TESTED_BACKENDS, fresh_database

LIMITED = {"file_upload": {"enabled": True, "max_files": 2, "max_file_size": 1}}
MANY = {"file_upload": {"enabled": True, "max_files": 50, "max_file_size": 1}}


def _direct(base_url: str, secret: str, body: bytes) -> Callable[[], httpx2.Response]:
    return lambda: httpx2.post(
        f"{base_url}/v1/chatkit/files",
        headers={"Authorization": f"Bearer {secret}"},
        files={"file": ("f.txt", body, "text/plain")},
        timeout=60,
    )


def _create(base_url: str, secret: str, name: str, mime: str = "text/plain") -> Callable[[], httpx2.Response]:
    params = {"name": name, "size": 3, "mime_type": mime}
    return lambda: httpx2.post(
        f"{base_url}/v1/chatkit/conversation",
        headers={"Authorization": f"Bearer {secret}"},
        json={"type": "attachments.create", "params": params},
        timeout=60,
    )


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_one_upload_link_posted_at_once_stores_one_clients_bytes_whole(user, chat_for):
    chat = chat_for(user, chatkit_configuration=MANY)
    for _ in range(3):
        created = chat.call("attachments.create", name="race.png", size=1000, mime_type="image/png")
        one_wins(created["upload_descriptor"]["url"], distinct_bodies(6))


def test_a_finished_upload_link_answers_409(user, chat_for):
    chat = chat_for(user, chatkit_configuration=MANY)
    created = chat.call("attachments.create", name="once.png", size=10, mime_type="image/png")
    url = created["upload_descriptor"]["url"]
    assert upload_to(url, PNG_HEADER + b"first")().status_code == 200
    again = upload_to(url, PNG_HEADER + b"second")()
    assert again.status_code == 409 and error_of(again)["code"] == "already_uploaded"


def test_a_failed_upload_frees_the_link_for_a_retry(user, chat_for):
    chat = chat_for(user, chatkit_configuration=MANY)
    created = chat.call("attachments.create", name="retry.png", size=10, mime_type="image/png")
    url = created["upload_descriptor"]["url"]
    too_big = upload_to(url, PNG_HEADER + b"x" * (1024 * 1024))()
    assert too_big.status_code == 413
    retried = upload_to(url, PNG_HEADER + b"fits")()
    assert retried.status_code == 200, retried.text
    assert httpx2.get(retried.json()["preview_url"]).content == PNG_HEADER + b"fits"


def test_a_preview_during_an_upload_is_a_404_and_then_the_whole_file(user, chat_for):
    # Previews raced with the upload never see part of it: the bytes appear whole, or not at all.
    chat = chat_for(user, chatkit_configuration=MANY)
    created = chat.call("attachments.create", name="slow.png", size=1000, mime_type="image/png")
    body = distinct_bodies(1, 512 * 1024)[0]
    half = threading.Event()
    resume = threading.Event()

    def multipart() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="slow.png"\r\n\r\n'
        yield body[: len(body) // 2]
        half.set()
        resume.wait(30)
        yield body[len(body) // 2 :] + b"\r\n--b--\r\n"

    headers = {"content-type": "multipart/form-data; boundary=b"}
    with ThreadPoolExecutor(1) as pool:
        upload = pool.submit(
            httpx2.post, created["upload_descriptor"]["url"], content=multipart(), headers=headers, timeout=60
        )
        assert half.wait(30)
        previews = all_at_once([lambda: httpx2.get(created["preview_url"], timeout=30)] * 4)
        assert [p.status_code for p in previews] == [404] * 4
        resume.set()
        assert upload.result().status_code == 200, upload.result().text
    assert all_at_once([lambda: httpx2.get(created["preview_url"], timeout=30)] * 4)[0].content == body


def _accepted(responses: list[httpx2.Response], allowed: int) -> None:
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == allowed, statuses
    for response in responses:
        if response.status_code != 200:
            assert response.status_code == 400, response.text
            assert error_of(response)["code"] == "max_files_exceeded"


def test_max_files_holds_for_parallel_direct_uploads(server, user, chat_for):
    chat = chat_for(user, chatkit_configuration=LIMITED)
    _accepted(all_at_once([_direct(server.base_url, chat.secret, b"%d" % i) for i in range(10)]), 2)


def test_max_files_holds_for_parallel_attachments_create(server, user, chat_for):
    chat = chat_for(user, chatkit_configuration=LIMITED)
    _accepted(all_at_once([_create(server.base_url, chat.secret, f"f{i}.txt") for i in range(10)]), 2)


def test_max_files_holds_for_both_ways_at_once(server, user, chat_for):
    chat = chat_for(user, chatkit_configuration=LIMITED)
    calls = [_direct(server.base_url, chat.secret, b"d") for _ in range(5)]
    calls += [_create(server.base_url, chat.secret, "c.txt") for _ in range(5)]
    _accepted(all_at_once(calls), 2)


def test_a_refused_or_failed_upload_does_not_use_up_a_file(server, user, chat_for):
    chat = chat_for(user, chatkit_configuration=LIMITED)
    too_big = _direct(server.base_url, chat.secret, b"x" * (1024 * 1024 + 1))()
    assert too_big.status_code == 413
    _accepted(
        [_direct(server.base_url, chat.secret, b"1")(), _direct(server.base_url, chat.secret, b"2")()], 2
    )


# -- two processes -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(TESTED_BACKENDS.values()))
def two_processes(request, tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    """Two ``chatkitd serve`` on one database and one data dir (the SQLite file, or PostgreSQL)."""
    admin_key = "sk-test-" + secrets.token_hex(8)
    data_dir = tmp_path_factory.mktemp("two")
    with (
        fresh_database(request.param, data_dir / "chatkitd.db", "chatkitd_races") as url,
        serve_process(url, data_dir, admin_key) as first,
        serve_process(url, data_dir, admin_key) as second,
    ):
        yield admin_key, first, second


def _session(base_url: str, admin_key: str, **options: Any) -> Any:
    with OpenAI(base_url=f"{base_url}/v1", api_key=admin_key, max_retries=0) as sdk:
        return new_session(sdk, "u_" + secrets.token_hex(4), **options)


def test_max_files_holds_across_processes(two_processes):
    admin_key, first, second = two_processes
    session = _session(first, admin_key, chatkit_configuration=LIMITED)
    targets = [first, second] * 5
    _accepted(all_at_once([_direct(t, session.client_secret, b"x") for t in targets]), 2)
    session = _session(second, admin_key, chatkit_configuration=LIMITED)
    _accepted(all_at_once([_create(t, session.client_secret, "f.txt") for t in targets]), 2)


def test_one_upload_link_across_processes(two_processes):
    admin_key, first, second = two_processes
    session = _session(first, admin_key, chatkit_configuration=MANY)
    created = _create(first, session.client_secret, "race.png", "image/png")()
    assert created.status_code == 200
    # The link names the first process; the same path and signature are posted to both.
    path = _path(created.json()["upload_descriptor"]["url"])
    bodies = distinct_bodies(6)
    responses = all_at_once(
        [upload_to(base + path, body) for base, body in zip([first, second] * 3, bodies, strict=True)]
    )
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1 and statuses.count(409) == 5, statuses
    winner = statuses.index(200)
    preview = _path(responses[winner].json()["preview_url"])
    for base in (first, second):
        assert httpx2.get(base + preview).content == bodies[winner]
