"""Hostile but valid input: one input policy for every route, a 4xx naming the param, never a 500.

Bodies are bounded by ``chatkitd.http.body_limit`` (413 before they are held),
and what JSON may hold by ``chatkitd.rest.json_input`` (nesting, number size,
list lengths, NUL), for the REST routes and every conversation request type.
"""

from __future__ import annotations

import json
import socket
import time

import httpx2
import pytest

from chatkitd.rest.input_policy import (
    MAX_ARRAY_ITEMS,
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_MESSAGE_CHARS,
    MAX_NAME_CHARS,
)
from tests.conftest import ADMIN_KEY
from tests.support.chat import error_of, user_input

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
SESSIONS = "/v1/chatkit/sessions"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def session_body(state_value: str | bytes) -> bytes:
    body = b'{"user": "u", "workflow": {"id": "demo", "state_variables": {"x": VALUE}}}'
    return body.replace(b"VALUE", state_value if isinstance(state_value, bytes) else state_value.encode())


def refused(response: httpx2.Response, param: str | None, code: str) -> dict:
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["param"], error["code"]) == (param, code), error
    return error


# -- REST bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [20, 4301, 5000, 100_000])
def test_a_huge_integer_is_a_400_naming_its_param(server, digits):
    response = httpx2.post(server.base_url + SESSIONS, content=session_body("9" * digits), headers=ADMIN)
    refused(response, "workflow.state_variables.x", "invalid_number")


@pytest.mark.parametrize(
    "value",
    [
        b'"\xff\xfe"',  # not UTF-8
        b'"\xed\xa0\x80"',  # a surrogate encoded in UTF-8
        b'"\\ud800"',  # a lone surrogate escape: no text can hold it
        b'"a\x01"',  # a raw control character
        b'"\\q"',  # an escape JSON does not have
    ],
)
def test_a_value_that_is_not_json_is_a_400_naming_its_param(server, user, chat_for, value):
    response = httpx2.post(server.base_url + SESSIONS, content=session_body(value), headers=ADMIN)
    refused(response, "workflow.state_variables.x", "invalid_json")
    message = b'{"type": "threads.create", "params": {"input": {"content": [{"type": "input_text", '
    message += b'"text": V}], "attachments": [], "inference_options": {}}}}'
    response = chat_for(user).http.post("/v1/chatkit/conversation", content=message.replace(b"V", value))
    refused(response, "params.input.content[0].text", "invalid_json")


def test_the_largest_64_bit_integer_is_accepted(server):
    response = httpx2.post(server.base_url + SESSIONS, content=session_body(str(2**63 - 1)), headers=ADMIN)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 100_000])
def test_deep_nesting_is_a_400_naming_its_param(server, depth):
    response = httpx2.post(server.base_url + SESSIONS, content=session_body(nested(depth)), headers=ADMIN)
    error = refused(response, "workflow.state_variables.x", "nesting_too_deep")
    assert str(MAX_DEPTH) in error["message"]


def test_deep_nesting_is_refused_on_every_json_route(server):
    deep = '{"name": "n", "metadata": {"k": DEEP}}'.replace("DEEP", nested(5_000))
    response = httpx2.post(server.base_url + "/v1/vector_stores", content=deep, headers=ADMIN)
    refused(response, "metadata.k", "nesting_too_deep")


def test_a_list_over_the_bound_is_a_400_naming_it(server):
    body = {"name": "n", "file_ids": [f"file_{n}" for n in range(MAX_ARRAY_ITEMS + 1)]}
    response = httpx2.post(server.base_url + "/v1/vector_stores", json=body, headers=ADMIN)
    refused(response, "file_ids", "invalid_items")


# -- conversation bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "param"),
    [
        ("threads.create", {"input": user_input("x"), "metadata": {"k": "DEEP"}}, "params.metadata.k"),
        (
            "threads.custom_action",
            {"thread_id": "T", "action": {"type": "x", "payload": "DEEP"}},
            "params.action.payload",
        ),
        ("threads.add_client_tool_output", {"thread_id": "T", "result": "DEEP"}, "params.result"),
    ],
)
def test_every_conversation_request_passes_the_same_policy(server, user, chat_for, kind, params, param):
    chat = chat_for(user)
    thread_id = chat.create("hello").thread_id
    body = json.dumps({"type": kind, "params": params}).replace('"T"', f'"{thread_id}"')
    response = chat.http.post("/v1/chatkit/conversation", content=body.replace('"DEEP"', nested(5_000)))
    refused(response, param, "nesting_too_deep")
    huge = body.replace('"DEEP"', "9" * 5000)
    refused(chat.http.post("/v1/chatkit/conversation", content=huge), param, "invalid_number")


def test_feedback_on_more_ids_than_the_bound_is_a_400_on_every_database(server, user, chat_for):
    # 40 000 ids were more than PostgreSQL's 32 767 parameters (a 500), and on SQLite one
    # request held the write lock for seconds.
    chat = chat_for(user)
    stream = chat.create("hello")
    item_id = stream.done_items("assistant_message")[0]["id"]
    params = {"thread_id": stream.thread_id, "item_ids": [item_id] * 40_000, "kind": "positive"}
    response = chat.post("items.feedback", **params)
    refused(response, "params.item_ids", "invalid_items")
    params["item_ids"] = [item_id] * MAX_ARRAY_ITEMS
    assert chat.post("items.feedback", **params).status_code == 200


# -- what a message, a title and a name may hold ----------------------------------------------


def _message(text: str, **more: object) -> dict:
    return {**user_input(text), **more}


@pytest.mark.parametrize(
    ("message", "param"),
    [
        # Every string of the message counts, not only its text parts: quoted text and tags
        # were stored and sent back whole (15 MB each).
        (_message("t" * 100, quoted_text="q" * MAX_MESSAGE_CHARS), "params.input.quoted_text"),
        (
            _message(
                "t" * (MAX_MESSAGE_CHARS - 100),
                content=[
                    {"type": "input_text", "text": "t" * (MAX_MESSAGE_CHARS - 100)},
                    {"type": "input_tag", "id": "x", "text": "tag", "data": {"k": "d" * 200}},
                ],
            ),
            "params.input.content[1].data.k",
        ),
        (
            _message("t", inference_options={"model": "m" * (MAX_MESSAGE_CHARS + 1)}),
            "params.input.inference_options.model",
        ),
    ],
)
def test_a_message_over_the_bound_in_any_of_its_strings_is_a_400_naming_it(user, chat_for, message, param):
    chat = chat_for(user)
    refused(chat.post("threads.create", input=message), param, "message_too_long")
    thread_id = chat.create("hello").thread_id
    refused(
        chat.post("threads.add_user_message", thread_id=thread_id, input=message), param, "message_too_long"
    )


def test_a_title_or_an_attachment_name_over_the_bound_is_a_400_naming_it(server, user, chat_for):
    # A 15 MB title was stored and sent back in every page of threads.list.
    chat = chat_for(user, chatkit_configuration={"file_upload": {"enabled": True}})
    thread_id = chat.create("hello").thread_id
    long = "n" * (MAX_NAME_CHARS + 1)
    refused(chat.post("threads.update", thread_id=thread_id, title=long), "params.title", "invalid_value")
    assert chat.call("threads.update", thread_id=thread_id, title=long[:-1])["title"] == long[:-1]
    created = chat.post("attachments.create", name=long, size=3, mime_type="text/plain")
    refused(created, "params.name", "invalid_value")
    # A direct upload's file name comes with its bytes: it is cut to the bound, not refused.
    uploaded = chat.http.post("/v1/chatkit/files", files={"file": (long, b"abc", "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["name"] == long[:MAX_NAME_CHARS]


# -- bodies are never held ------------------------------------------------------------------


def _send_without_end(server, path: str, megabytes: int, token: str = ADMIN_KEY) -> bytes:
    """POST a chunked body of ``megabytes`` and never end it; the answer the server gives."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b" " * (1024 * 1024)
        try:
            for _ in range(megabytes):
                sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server answered and closed: read the answer
        answer = b""
        deadline = time.monotonic() + 20
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            try:
                piece = sock.recv(65536)
            except TimeoutError:
                break
            if not piece:
                break
            answer += piece
        return answer


@pytest.mark.parametrize("path", ["/playground/session", SESSIONS, "/v1/chatkit/conversation"])
def test_a_body_over_the_limit_is_refused_before_it_ends(server, user, chat_for, path):
    # The playground route used to read the whole body first: 300 MB held 600 MB.
    token = chat_for(user).secret if path.endswith("/conversation") else ADMIN_KEY
    answer = _send_without_end(server, path, MAX_BODY_BYTES // (1024 * 1024) + 2, token)
    head = answer.split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 413"), answer[:200]
    assert b"connection: close" in head


def _upload_without_end(server, path: str, token: str, before: int) -> tuple[bytes, int]:
    """A chunked multipart upload to ``path`` sending ``before`` quarters of a MiB of its file, then
    waiting for the answer, then going on: the answer's head, and how many more MiB the server took
    after it (it should take none)."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        sock.sendall(b"%x\r\n%b\r\n" % (len(head), head))
        chunk = b"x" * (256 * 1024)
        for _ in range(before):
            sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        taken = 0
        try:
            for _ in range(200):  # 50 MiB more: a server still reading takes them all
                sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                taken += len(chunk)
        except OSError:
            pass
        return answer.split(b"\r\n\r\n")[0].lower(), taken // (1024 * 1024)


def test_an_answer_before_the_body_ends_closes_the_connection(server, user, chat_for):
    # An upload past the session's file size got its 413 and the server went on reading (and
    # throwing away) whatever the client sent; so did a request refused before its body was read.
    chat = chat_for(user, chatkit_configuration={"file_upload": {"enabled": True, "max_file_size": 1}})
    for path, token, before, status in [
        ("/v1/chatkit/files", chat.secret, 5, b"413"),  # just past the 1 MB file size
        ("/v1/chatkit/files/atc_x/upload?expires=1&signature=x", chat.secret, 0, b"401"),
        ("/v1/chatkit/files", "not-a-secret", 0, b"401"),
    ]:
        head, taken = _upload_without_end(server, path, token, before)
        assert head.startswith(b"http/1.1 " + status) and b"connection: close" in head, head
        assert taken < 50, f"{path}: the server read {taken} MiB more after answering"


def test_a_declared_length_over_the_limit_is_refused_unread(server):
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(
            f"POST /playground/session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {300 * 1024 * 1024}\r\n\r\n".encode()
        )
        head = sock.recv(65536).split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 413") and b"connection: close" in head


# -- query parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        # The reference: user has minLength 1 and maxLength 512.
        ("/v1/chatkit/threads", {"user": ""}, "user"),
        ("/v1/chatkit/threads", {"user": "u" * 513}, "user"),
        ("/v1/chatkit/threads", {"after": ""}, "after"),
        ("/v1/chatkit/threads", {"before": "c" * 10_000}, "before"),
        ("/v1/chatkit/threads/cthr_x/items", {"after": ""}, "after"),
        ("/v1/chatkit/traces", {"thread_id": ""}, "thread_id"),
        ("/v1/chatkit/admin/sessions", {"user": ""}, "user"),
        ("/v1/files", {"purpose": ""}, "purpose"),
        ("/v1/vector_stores", {"after": ""}, "after"),
    ],
)
def test_an_empty_or_overlong_query_text_is_a_400_naming_it(server, path, params, param):
    response = httpx2.get(server.base_url + path, params=params, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert error_of(response)["param"] == param


def test_a_user_filter_at_the_bounds_is_accepted(server):
    for user in ("u", "u" * 512):
        response = httpx2.get(server.base_url + "/v1/chatkit/threads", params={"user": user}, headers=ADMIN)
        assert response.status_code == 200, response.text
