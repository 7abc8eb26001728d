"""``GET /metrics``: requests counted by method, route template and status, and timed.

The server is shared by the whole session, so each test reads the counters
before and after its own requests and checks the difference: a request that
answered 500, was not counted, or was counted under a raw path fails it.
"""

from __future__ import annotations

import httpx2
import openai
import pytest

from tests.support.metrics import Samples, scrape

REQUESTS = "chatkitd_http_requests_total"
TIMED = "chatkitd_http_request_duration_seconds_count"


def samples(server) -> Samples:
    return scrape(server.base_url)


def counted(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def moved(before: Samples, after: Samples) -> list[dict[str, str]]:
    """The labels of every request counter that moved between two scrapes."""
    return [
        dict(labels)
        for name, labels in after
        if name == REQUESTS and counted(before, after, name, **dict(labels))
    ]


def test_requests_are_counted_by_route_template(server, client):
    thread_id = "cthr_doesnotexist"
    before = samples(server)
    with pytest.raises(openai.NotFoundError):
        client.beta.chatkit.threads.retrieve(thread_id)
    client.beta.chatkit.threads.list()
    after = samples(server)

    one, listing = "/v1/chatkit/threads/{thread_id}", "/v1/chatkit/threads"
    assert counted(before, after, REQUESTS, method="GET", route=one, status="404") == 1
    assert counted(before, after, REQUESTS, method="GET", route=listing, status="200") == 1
    for route in (one, listing):
        assert counted(before, after, TIMED, method="GET", route=route) == 1, route
    # Nothing else was counted in between but the first scrape itself.
    assert sorted(labels["route"] for labels in moved(before, after)) == ["/metrics", listing, one]
    # Raw ids never become labels.
    assert not any(thread_id in str(labels) for _, labels in after)


def test_a_refused_request_is_counted_with_the_status_it_got(server):
    before = samples(server)
    response = httpx2.post(f"{server.base_url}/v1/chatkit/sessions", content=b"{not json")
    assert response.status_code == 401  # no admin key: refused before the body is read
    after = samples(server)
    route = "/v1/chatkit/sessions"
    assert counted(before, after, REQUESTS, method="POST", route=route, status="401") == 1
    assert not [labels for labels in moved(before, after) if labels["status"].startswith("5")]
