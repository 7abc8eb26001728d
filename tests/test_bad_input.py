"""Bad input found by fuzzing the routes beyond the REST API: each is a 4xx naming its param, not a 500.

The REST API itself was fuzzed with schemathesis against ``/v1/openapi.json``,
and the conversation endpoint against a schema of ``chatkit.types.ChatKitReq``;
what they turned up is pinned here.
"""

from __future__ import annotations

import httpx2
import pytest

from tests.conftest import ADMIN_KEY
from tests.support.chat import error_of

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}

# (method, path, request kwargs, status, param)
CASES = [
    # str.isdigit() accepts superscripts that int() refuses, and int() refuses 5000 digits.
    ("GET", "/v1/chatkit/traces", {"params": {"limit": "²"}}, 400, "limit"),
    ("GET", "/v1/chatkit/traces", {"params": {"limit": "9" * 5000}}, 400, "limit"),
    ("GET", "/v1/chatkit/threads", {"params": {"limit": "9" * 5000}}, 400, "limit"),
    # PostgreSQL text cannot hold NUL: refused before any query.
    ("GET", "/v1/chatkit/traces", {"params": {"thread_id": "a\x00"}}, 400, "thread_id"),
    ("GET", "/v1/chatkit/traces/tr%00", {}, 400, "trace_id"),
    ("GET", "/v1/chatkit/admin/sessions", {"params": {"user": "a\x00"}}, 400, "user"),
    ("GET", "/v1/chatkit/admin/feedback", {"params": {"thread_id": "a\x00"}}, 400, "thread_id"),
    ("GET", "/v1/chatkit/admin/threads/a%00/items", {}, 400, "thread_id"),
    ("GET", "/v1/chatkit/admin/threads/cthr_x/items", {"params": {"limit": "x"}}, 400, "limit"),
    # The playground merges its upload defaults into what the page sent, which must be an object.
    ("POST", "/playground/session", {"json": {"file_upload": [1]}}, 400, "chatkit_configuration.file_upload"),
    (
        "POST",
        "/playground/session",
        {"json": {"file_upload": "yes"}},
        400,
        "chatkit_configuration.file_upload",
    ),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "param"), CASES)
def test_bad_input_is_a_4xx_naming_its_param(server, method, path, kwargs, status, param):
    response = httpx2.request(method, server.base_url + path, headers=ADMIN, **kwargs)
    assert response.status_code == status, response.text
    assert error_of(response)["param"] == param


def test_a_multipart_body_cut_short_is_not_stored_as_a_file(server, user, chat_for):
    chat = chat_for(user, chatkit_configuration={"file_upload": {"enabled": True}})
    body = (
        b"--xx\r\nContent-Disposition: form-data; name=file; filename=a.txt\r\n"
        b"Content-Type: text/plain\r\n\r\nthe first half of a fi"
    )
    headers = {"content-type": "multipart/form-data; boundary=xx"}
    before = _stored(server)
    response = chat.http.post("/v1/chatkit/files", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert error_of(response)["param"] == "file" and error_of(response)["code"] == "invalid_upload"
    assert _stored(server) == before


def _stored(server) -> set:
    return {p for p in server.settings.blob_dir.rglob("*") if p.is_file()}
