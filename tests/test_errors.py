"""Every REST error path: OpenAI's envelope, the status the SDK maps, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import openai
import pytest
from sqlalchemy import func, select

from chatkitd.rest.input_policy import MAX_BODY_BYTES
from chatkitd.store import keys, tables
from tests.conftest import ADMIN_KEY

SESSIONS = "/v1/chatkit/sessions"
VALID = {"user": "user_errors", "workflow": {"id": "demo"}}


@pytest.fixture
def raw(server) -> Iterator[httpx2.Client]:
    """Plain HTTP, for what the SDK cannot send: bad JSON, odd methods, no key."""
    with httpx2.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=60
    ) as http:
        yield http


def envelope(response: httpx2.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    return error


def session_count(server) -> int:
    async def count():
        async with server.platform.db.read() as conn:
            return await conn.scalar(select(func.count()).select_from(tables.sessions))

    return server.run(count())


# -- 400 --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{", b'{"user": }', b"\xff\xfe{}", b"", b'{"user": "a"} trailing'])
def test_malformed_json_is_400(raw, body):
    error = envelope(raw.post(SESSIONS, content=body, headers={"Content-Type": "application/json"}), 400)
    assert error["code"] == "invalid_json"
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_400_and_store_nothing(server, raw, number):
    before = session_count(server)
    body = '{"user": "u", "workflow": {"id": "demo", "state_variables": {"x": NUMBER}}}'
    body = body.replace("NUMBER", number)
    response = raw.post(SESSIONS, content=body, headers={"Content-Type": "application/json"})
    error = envelope(response, 400)
    assert error["code"] == "invalid_number"
    assert error["param"] == "workflow.state_variables.x"
    assert number == "1e999" or number in error["message"]
    assert session_count(server) == before


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "42", "null", "true"])
def test_non_object_json_is_400(raw, body):
    error = envelope(raw.post(SESSIONS, content=body, headers={"Content-Type": "application/json"}), 400)
    assert error["code"] == "invalid_json"
    assert "object" in error["message"]


def test_sdk_raises_bad_request_with_envelope_fields(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.beta.chatkit.sessions.create(user="", workflow={"id": "demo"})
    error = caught.value
    assert error.status_code == 400
    assert error.param == "user"
    assert error.type == "invalid_request_error"
    assert error.code is not None and "too_short" in error.code
    assert isinstance(error.body, dict) and error.body["param"] == "user"


# -- 401 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", SESSIONS),
        ("POST", f"{SESSIONS}/cksess_x/cancel"),
        ("GET", "/v1/chatkit/threads"),
        ("GET", "/v1/chatkit/threads/cthr_x"),
        ("DELETE", "/v1/chatkit/threads/cthr_x"),
        ("GET", "/v1/chatkit/threads/cthr_x/items"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Basic abc", "Bearer wrong-key"])
def test_every_endpoint_needs_a_valid_key(server, method, path, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    with httpx2.Client(base_url=server.base_url) as http:
        response = http.request(method, path, headers=headers, json=VALID)
    error = envelope(response, 401)
    assert error["type"] == "authentication_error"
    expected = "invalid_api_key" if authorization == "Bearer wrong-key" else "missing_api_key"
    assert error["code"] == expected


def test_sdk_maps_wrong_key_to_authentication_error(server):
    with server.sdk("ck-admin-not-a-real-key") as wrong:
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.beta.chatkit.threads.list()
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"


def test_revoked_key_is_refused(server):
    db = server.platform.db
    token, record = server.run(keys.create_key(db, "default", name="short-lived"))
    with server.sdk(token) as sdk:
        assert sdk.beta.chatkit.threads.list(limit=1).object == "list"
        assert server.run(keys.revoke_key(db, record.id)) is True
        with pytest.raises(openai.AuthenticationError):
            sdk.beta.chatkit.threads.list(limit=1)
        with pytest.raises(openai.AuthenticationError):
            sdk.beta.chatkit.sessions.create(**VALID)


def test_authentication_comes_before_the_body(server):
    with httpx2.Client(base_url=server.base_url) as http:
        response = http.post(SESSIONS, content=b"{not json")
    envelope(response, 401)


# -- 404 --------------------------------------------------------------------------------


# "/" is the web UI's playground (issue 5), so an unknown top-level path stands in for it.
@pytest.mark.parametrize(
    "path", ["/v1/nope", "/v1/chatkit", "/v1/chatkit/threads/cthr_x/items/extra", "/nowhere"]
)
def test_unknown_route_is_404(raw, path):
    error = envelope(raw.get(path), 404)
    assert error["code"] == "unknown_route"


def test_sdk_maps_unknown_route_to_not_found(client):
    with pytest.raises(openai.NotFoundError):
        client.get("/chatkit/nowhere", cast_to=object)


def test_unknown_ids_are_404_naming_the_id(client):
    cases = [
        (lambda: client.beta.chatkit.threads.retrieve("cthr_none"), "thread_id"),
        (lambda: client.beta.chatkit.threads.delete("cthr_none"), "thread_id"),
        (lambda: client.beta.chatkit.threads.list_items("cthr_none"), "thread_id"),
        (lambda: client.beta.chatkit.sessions.cancel("cksess_none"), "session_id"),
    ]
    for call, param in cases:
        with pytest.raises(openai.NotFoundError) as caught:
            call()
        assert caught.value.status_code == 404
        assert caught.value.param == param
        assert "_none" in caught.value.message


# -- 405 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", SESSIONS, {"POST"}),
        ("DELETE", SESSIONS, {"POST"}),
        ("GET", f"{SESSIONS}/cksess_x/cancel", {"POST"}),
        ("PUT", "/v1/chatkit/threads", {"GET"}),
        ("POST", "/v1/chatkit/threads", {"GET"}),
        ("PATCH", "/v1/chatkit/threads/cthr_x", {"GET", "DELETE"}),
        ("POST", "/v1/chatkit/threads/cthr_x/items", {"GET"}),
    ],
)
def test_wrong_method_is_405_with_allow(raw, method, path, allowed):
    response = raw.request(method, path)
    error = envelope(response, 405)
    assert error["code"] == "method_not_allowed"
    assert allowed <= {m.strip() for m in response.headers["allow"].split(",")}


# -- 413 --------------------------------------------------------------------------------


def test_oversized_body_is_413_before_any_work(server, raw):
    before = session_count(server)
    padding = "a" * (MAX_BODY_BYTES + 1)
    response = raw.post(SESSIONS, json={**VALID, "state": padding})
    error = envelope(response, 413)
    assert error["code"] == "request_too_large"
    assert session_count(server) == before


def test_oversized_chunked_body_is_413(server, raw):
    def body() -> Iterator[bytes]:
        chunk = b" " * (1024 * 1024)
        for _ in range(MAX_BODY_BYTES // len(chunk) + 1):
            yield chunk

    before = session_count(server)
    response = raw.post(SESSIONS, content=body(), headers={"Content-Type": "application/json"})
    envelope(response, 413)
    assert session_count(server) == before


def test_sdk_maps_413_to_api_status_error(client):
    with pytest.raises(openai.APIStatusError) as caught:
        client.beta.chatkit.sessions.create(**VALID, extra_body={"padding": "x" * (MAX_BODY_BYTES + 10)})
    assert caught.value.status_code == 413


def test_body_just_under_the_limit_is_read(raw):
    # Whitespace is valid JSON padding: the limit, not the content, is what is tested.
    body = json.dumps(VALID).encode()
    body += b" " * (MAX_BODY_BYTES - len(body))
    response = raw.post(SESSIONS, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["user"] == "user_errors"


# -- the beta header ------------------------------------------------------------------


def test_beta_header_is_accepted_but_not_required(raw):
    without = raw.post(SESSIONS, json=VALID)
    assert without.status_code == 200, without.text
    with_header = raw.post(SESSIONS, json=VALID, headers={"OpenAI-Beta": "chatkit_beta=v1"})
    assert with_header.status_code == 200
    assert raw.get("/v1/chatkit/threads").status_code == 200


# -- never a 500 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", SESSIONS, {"user": None, "workflow": None}),
        ("POST", SESSIONS, {"user": 123, "workflow": {"id": 5}}),
        ("POST", SESSIONS, {"user": "u", "workflow": "demo"}),
        ("POST", SESSIONS, {"user": "u", "workflow": {"id": "demo"}, "expires_after": 30}),
        ("POST", SESSIONS, {"user": "u", "workflow": {"id": "demo", "state_variables": []}}),
        ("POST", SESSIONS, {"user": "u" * 10_000, "workflow": {"id": "demo"}}),
        ("POST", SESSIONS, {"user": "u", "workflow": {"id": "x" * 5000}}),
        (
            "POST",
            SESSIONS,
            {"user": "u", "workflow": {"id": "demo"}, "rate_limits": {"max_requests_per_1_minute": 10**30}},
        ),
        ("POST", SESSIONS, {"user": "a\u0000b", "workflow": {"id": "demo"}}),
        ("POST", SESSIONS, {"user": "u", "workflow": {"id": "demo", "version": "\u0000"}}),
        (
            "POST",
            SESSIONS,
            {"user": "u", "workflow": {"id": "demo", "state_variables": {"k\u0000": "v\u0000"}}},
        ),
        ("POST", f"{SESSIONS}/{'x' * 5000}/cancel", None),
        ("POST", f"{SESSIONS}/%00/cancel", None),
        ("GET", "/v1/chatkit/threads?limit=99999999999999999999999", None),
        ("GET", "/v1/chatkit/threads?after=' OR 1=1 --", None),
        ("GET", "/v1/chatkit/threads?before=%00", None),
        ("GET", "/v1/chatkit/threads?user=%00", None),
        ("GET", f"/v1/chatkit/threads/{'t' * 5000}", None),
        ("GET", "/v1/chatkit/threads/%00/items?order=asc", None),
        ("DELETE", "/v1/chatkit/threads/'; DROP TABLE threads; --", None),
    ],
)
def test_bad_input_never_answers_500(raw, method, path, body):
    response = raw.request(method, path, json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        envelope(response, response.status_code)
