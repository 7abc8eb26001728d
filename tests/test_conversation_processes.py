"""Two ``chatkitd serve`` processes on one PostgreSQL: cancellation and the rate limit hold across both."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from openai import OpenAI

from tests.support.processes import serve_process
from tests.support.servers import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    admin_key = "sk-test-" + secrets.token_hex(8)
    data_dir = tmp_path_factory.mktemp("procs")
    # One after the other, so that only one of them runs the migrations.
    with (
        fresh_database("postgres", data_dir / "unused.db", "chatkitd_procs") as url,
        serve_process(url, data_dir, admin_key) as first,
        serve_process(url, data_dir, admin_key) as second,
    ):
        yield admin_key, first, second


def _post(base_url: str, secret: str) -> int | str:
    response = httpx2.post(
        f"{base_url}/v1/chatkit/conversation",
        json={"type": "threads.list", "params": {}},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=30,
    )
    return response.status_code if response.status_code != 401 else response.json()["error"]["code"]


def _sdk(base_url: str, key: str) -> OpenAI:
    return OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0)


def test_cancel_on_one_process_is_refused_on_the_other(two_servers):
    admin_key, first, second = two_servers
    session = _sdk(first, admin_key).beta.chatkit.sessions.create(user="u", workflow={"id": "demo"})
    assert _post(second, session.client_secret) == 200
    _sdk(first, admin_key).beta.chatkit.sessions.cancel(session.id)
    assert _post(second, session.client_secret) == "session_cancelled"
    assert _post(first, session.client_secret) == "session_cancelled"


def test_rate_limit_is_shared_across_processes(two_servers):
    admin_key, first, second = two_servers
    limit = 12
    session = _sdk(second, admin_key).beta.chatkit.sessions.create(
        user="u", workflow={"id": "demo"}, rate_limits={"max_requests_per_1_minute": limit}
    )
    targets = [first, second] * 15
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda base: _post(base, session.client_secret), targets))
    assert statuses.count(200) == limit
    assert statuses.count(429) == len(targets) - limit
