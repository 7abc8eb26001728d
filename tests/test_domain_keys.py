"""CHATKITD_DOMAIN_KEYS: a client secret works only from the page origins its domain key lists."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from chatkitd.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.support.servers import RunningServer, start_server

APP = "https://app.example.com"
SHOP = "https://shop.example.com:8443"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("domain-keys")
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    keys = {"domain_pk_app": [APP], "domain_pk_shop": [SHOP]}
    with start_server(url, data_dir, ADMIN_KEY, domain_keys=keys) as server:
        yield server


def secret(server: RunningServer) -> str:
    session = server.sdk(ADMIN_KEY).beta.chatkit.sessions.create(
        user="domain-user", workflow={"id": "demo"}, rate_limits={"max_requests_per_1_minute": 100}
    )
    return session.client_secret


def threads_list(server: RunningServer, key: str, **headers: str) -> httpx2.Response:
    return httpx2.post(
        server.base_url + "/v1/chatkit/conversation",
        json={"type": "threads.list", "params": {}},
        headers={"authorization": f"Bearer {key}", **headers},
    )


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"origin": APP, "chatkit-domain-key": "domain_pk_app"}, 200, None),
        ({"origin": SHOP, "chatkit-domain-key": "domain_pk_shop"}, 200, None),
        ({"origin": APP}, 200, None),  # the hosted style sends no key: any registered origin
        ({}, 200, None),  # no Origin: a backend calling for its user, not a page
        ({"origin": SHOP, "chatkit-domain-key": "domain_pk_app"}, 403, "domain_not_allowed"),
        (
            {"origin": "https://evil.example", "chatkit-domain-key": "domain_pk_app"},
            403,
            "domain_not_allowed",
        ),
        ({"origin": "https://evil.example"}, 403, "domain_not_allowed"),
        ({"origin": APP, "chatkit-domain-key": "domain_pk_nope"}, 403, "invalid_domain_key"),
        ({"chatkit-domain-key": "domain_pk_nope"}, 403, "invalid_domain_key"),
    ],
)
def test_registered_origins_only(guarded, headers, status, code):
    response = threads_list(guarded, secret(guarded), **headers)
    assert response.status_code == status, response.text
    if code:
        error = response.json()["error"]
        assert error["code"] == code and error["param"] == "domainKey"
        assert error["type"] == "permission_error"


def test_without_the_setting_a_domain_key_is_accepted_and_nothing_is_checked(server):
    response = threads_list(
        server, secret(server), origin="https://anywhere.example", **{"chatkit-domain-key": "domain_pk_x"}
    )
    assert response.status_code == 200, response.text


def test_the_setting_is_read_from_the_environment_and_refuses_what_is_not_an_origin(monkeypatch):
    monkeypatch.setenv("CHATKITD_DOMAIN_KEYS", f"domain_pk_a={APP} {SHOP}; domain_pk_b=http://127.0.0.1:9000")
    assert Settings().domain_keys == {"domain_pk_a": [APP, SHOP], "domain_pk_b": ["http://127.0.0.1:9000"]}
    for bad in ("domain_pk_a", "domain_pk_a=", f"domain_pk_a={APP}/path", "domain_pk_a=app.example.com"):
        monkeypatch.setenv("CHATKITD_DOMAIN_KEYS", bad)
        with pytest.raises(ValueError, match="domain_keys"):
            Settings()
