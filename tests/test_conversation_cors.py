"""CORS: a page on the integrator's origin may call the conversation, upload and preview routes."""

from __future__ import annotations

import httpx2
import pytest

from tests.conftest import ADMIN_KEY
from tests.support.chat import Chat, new_session
from tests.support.servers import start_server

ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def cors_server(database_url, tmp_path_factory):
    with start_server(
        database_url, tmp_path_factory.mktemp("cors"), ADMIN_KEY, cors_origins=[ORIGIN]
    ) as running:
        yield running


@pytest.mark.parametrize(
    "path", ["/v1/chatkit/conversation", "/v1/chatkit/files", "/v1/chatkit/files/atc_x/upload"]
)
def test_preflight_is_allowed_for_the_configured_origin(cors_server, path):
    response = httpx2.options(
        cors_server.base_url + path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_other_origins_are_not_allowed(cors_server):
    response = httpx2.options(
        cors_server.base_url + "/v1/chatkit/conversation",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_responses_carry_cors_headers(cors_server, user):
    session = new_session(
        cors_server.sdk(ADMIN_KEY), user, chatkit_configuration={"file_upload": {"enabled": True}}
    )
    with Chat(cors_server, session.client_secret, headers={"Origin": ORIGIN}) as chat:
        stream = chat.create("hello")
        assert stream.response.headers["access-control-allow-origin"] == ORIGIN
        limited = chat.post("threads.get_by_id", thread_id="cthr_missing")
        assert limited.headers["access-control-allow-origin"] == ORIGIN
        image = chat.http.post("/v1/chatkit/files", files={"file": ("p.png", b"\x89PNG", "image/png")}).json()
        preview = httpx2.get(image["preview_url"], headers={"Origin": ORIGIN})
        assert preview.status_code == 200
        assert preview.headers["access-control-allow-origin"] == ORIGIN
