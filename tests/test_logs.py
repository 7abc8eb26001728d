"""What ``chatkitd serve`` logs at its default level: client errors as one INFO line (no traceback),
an access line per request with its id, never a credential (keys, client secrets, the signatures
of upload and preview links), and with ``CHATKITD_LOG_FORMAT=json`` one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from tests.conftest import ADMIN_KEY
from tests.support.chat import user_input
from tests.support.processes import ServeProcess

SESSION = {
    "user": "user_logs",
    "workflow": {"id": "demo"},
    "rate_limits": {"max_requests_per_1_minute": 1000},
    "chatkit_configuration": {"file_upload": {"enabled": True}},
}


def exercise(base_url: str) -> dict[str, str]:
    """Requests whose log lines the tests read; the credentials and ids they involved."""
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx2.Client(base_url=base_url, headers=auth, timeout=30) as admin:
        session = admin.post("/v1/chatkit/sessions", json=SESSION).json()
        assert admin.get("/v1/chatkit/threads/cthr_missing").status_code == 404
        tagged = admin.get("/healthz", headers={"X-Request-Id": "trace-me-42"})
        assert tagged.headers["x-request-id"] == "trace-me-42"
        assert admin.get("/healthz").headers["x-request-id"].startswith("req_")
    auth = {"Authorization": f"Bearer {session['client_secret']}"}
    with httpx2.Client(base_url=base_url, headers=auth, timeout=30) as chat:
        return _chat(chat, session)


def _chat(chat: httpx2.Client, session: dict) -> dict[str, str]:

    def post(kind: str, **params: object) -> httpx2.Response:
        return chat.post("/v1/chatkit/conversation", json={"type": kind, "params": params})

    created = post("threads.create", input=user_input("hello"))
    thread_id = created.text.split('"thread":{"id":"', 1)[1].split('"', 1)[0]
    # Refusals chatkit would raise inside its stream (and log at ERROR with a traceback): chatkitd
    # checks them before anything streams, so they are a 422 and a 404 with one access line each.
    assert post("threads.add_client_tool_output", thread_id=thread_id, result=1).status_code == 422
    unknown_item = post("threads.custom_action", thread_id=thread_id, item_id="nope", action={"type": "x"})
    assert unknown_item.status_code == 404
    attachment = post("attachments.create", name="a.png", size=4, mime_type="image/png").json()
    upload_url = attachment["upload_descriptor"]["url"]
    assert chat.post(upload_url, files={"file": ("a.png", b"\x89PNG")}).status_code == 200
    assert chat.get(attachment["preview_url"], headers={"Authorization": ""}).status_code == 200
    return {
        "secret": session["client_secret"],
        "session": session["id"],
        "thread": thread_id,
        "upload_signature": upload_url.split("signature=")[1],
        "preview_signature": attachment["preview_url"].split("signature=")[1],
    }


def serve_and_exercise(tmp_path: Path, **env: str) -> tuple[str, dict[str, str]]:
    server = ServeProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'chatkitd.db'}",
        tmp_path,
        ADMIN_KEY,
        env={"CHATKITD_LOG_LEVEL": "info", **env},
    )
    try:
        server.wait_ready()
        seen = exercise(server.base_url)
    finally:
        server.stop()  # the access log is flushed on the way out
    return server.log_path.read_text(), seen


@pytest.fixture(scope="module")
def text_log(tmp_path_factory) -> tuple[str, dict[str, str]]:
    return serve_and_exercise(tmp_path_factory.mktemp("text_log"))


def test_client_errors_are_access_lines_without_tracebacks(text_log):
    log, _ = text_log
    assert "Traceback" not in log, log
    assert not [line for line in log.splitlines() if " ERROR " in line], log
    refused = [line for line in log.splitlines() if '"POST /v1/chatkit/conversation" 4' in line]
    assert sorted(line.split('" ', 1)[1][:3] for line in refused) == ["404", "422"], refused


def test_no_credential_reaches_the_log(text_log):
    log, seen = text_log
    for name in ("secret", "upload_signature", "preview_signature"):
        assert seen[name] not in log, name
    assert ADMIN_KEY not in log
    assert log.count("signature=REDACTED") >= 2, log


@pytest.mark.parametrize(("level", "log_format"), [("trace", "text"), ("debug", "json")])
def test_no_credential_reaches_the_log_at_any_level(level, log_format, tmp_path):
    """At ``trace`` uvicorn prints each request's query (a signed link's signature) and at
    ``debug`` every library speaks: no line may carry a credential, in either format."""
    log, seen = serve_and_exercise(tmp_path, CHATKITD_LOG_LEVEL=level, CHATKITD_LOG_FORMAT=log_format)
    assert "uvicorn.asgi" in log if level == "trace" else " DEBUG " in log or '"DEBUG"' in log
    for name in ("secret", "upload_signature", "preview_signature"):
        assert seen[name] not in log, (name, [line for line in log.splitlines() if seen[name] in line])
    assert ADMIN_KEY not in log


def test_the_redaction_rule_covers_every_credential_shape():
    from chatkitd.redaction import redact

    line = (
        "GET /v1/chatkit/files/atc_1/preview?expires=9&signature=abc123 "
        "Authorization: Bearer sk-live-xyz, scope={'query_string': b'expires=1&sig=s3cr3t'} "
        "https://mcp.example.com/?api_key=k3y&x=1 ck-admin-AbC_dEf-1 ck_secret_QwErTy "
        "ck_secret_redacted_0a1b2c3d"
    )
    redacted = redact(line)
    for secret in ("abc123", "sk-live-xyz", "s3cr3t", "k3y", "AbC_dEf-1", "QwErTy"):
        assert secret not in redacted, secret
    assert "expires=9&signature=REDACTED" in redacted and "&x=1" in redacted
    assert "ck_secret_redacted_0a1b2c3d" in redacted  # a redacted form stays readable
    assert redact(redacted) == redacted


def test_every_request_has_an_access_line_with_its_id(text_log):
    log, seen = text_log
    access = [line for line in log.splitlines() if '"GET /healthz"' in line]
    assert any(line.endswith("trace-me-42") for line in access), access
    conversation = [line for line in log.splitlines() if '"POST /v1/chatkit/conversation"' in line]
    assert conversation and all(f"session={seen['session']}" in line for line in conversation)
    assert any(f"thread={seen['thread']}" in line for line in conversation)
    assert any('"GET /v1/chatkit/threads/cthr_missing" 404' in line for line in log.splitlines())


def test_json_lines_carry_the_request_ids(tmp_path):
    log, seen = serve_and_exercise(tmp_path, CHATKITD_LOG_FORMAT="json")
    records = []
    for line in log.splitlines():
        if line.startswith("chatkitd: data in"):
            continue  # the CLI's own note, before logging starts
        records.append(json.loads(line))
    access = [r for r in records if r["logger"] == "chatkitd.access"]
    assert {r["path"] for r in access} >= {"/v1/chatkit/sessions", "/v1/chatkit/conversation"}
    assert all(r["request_id"] for r in access)
    chats = [r for r in access if r["path"] == "/v1/chatkit/conversation"]
    assert all(r["session"] == seen["session"] and r["workflow"] == "demo" for r in chats), chats
    assert all(r["project"] for r in access if r["path"] == "/v1/chatkit/sessions")
    assert not [r for r in records if r["level"] == "ERROR" or "exception" in r], records
    refused = [r for r in chats if 400 <= r["status"] < 500]
    assert sorted(r["status"] for r in refused) == [404, 422] and all(r["request_id"] for r in refused)
    assert seen["upload_signature"] not in log and seen["secret"] not in log
