"""Several clients at once: calls released together, and one signed upload link raced."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx2

from tests.support.chat import error_of

PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def all_at_once(calls: list[Callable[[], httpx2.Response]]) -> list[httpx2.Response]:
    """Run the calls in parallel threads, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx2.Response]) -> httpx2.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def upload_to(url: str, body: bytes) -> Callable[[], httpx2.Response]:
    return lambda: httpx2.post(url, files={"file": ("race.png", body, "image/png")}, timeout=60)


def distinct_bodies(count: int, size: int = 200 * 1024) -> list[bytes]:
    """Distinct bodies: which client's bytes were stored is plain to see."""
    return [PNG_HEADER + bytes([index + 1]) * size for index in range(count)]


def one_wins(url: str, bodies: list[bytes]) -> None:
    responses = all_at_once([upload_to(url, body) for body in bodies])
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, statuses
    for response in responses:
        if response.status_code != 200:
            assert response.status_code == 409, response.text
            assert error_of(response)["code"] in ("upload_in_progress", "already_uploaded")
    winner = statuses.index(200)
    # The stored bytes are the winner's, whole: read back through the signed preview link.
    preview = httpx2.get(responses[winner].json()["preview_url"], timeout=30)
    assert preview.status_code == 200
    assert preview.content == bodies[winner]
