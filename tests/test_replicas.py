"""Three ``chatkitd serve`` replicas on one PostgreSQL and one S3-compatible store, behind nginx,
as a deployment runs them.

The database is new for the run and migrated once by ``chatkitd migrate`` before
any replica starts (they run with ``CHATKITD_MIGRATE_ON_START=false``); uploads go
to a bucket on moto's S3 server; the replicas start side by side, each with its own
data dir (as on separate machines) and no signing key configured, and nginx (``tests.support.proxy``, serving
``deploy/nginx/chatkitd-proxy.conf`` as it ships) spreads requests over them in
turn. Every request here goes through the proxy; the replica that answered is
read from the header the test's nginx adds, so each test can show that what one
replica did, the others saw at once.
"""

from __future__ import annotations

import gc
import json
import secrets
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from openai import OpenAI

from tests.support.chat import parse_sse, user_input
from tests.support.processes import ServeProcess
from tests.support.proxy import UPSTREAM_HEADER, nginx, served_by
from tests.support.s3 import moto_server
from tests.support.servers import fresh_database

pytestmark = pytest.mark.postgres

REPLICAS = 3
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PRODUCTION = {"CHATKITD_MODE": "production", "CHATKITD_MIGRATE_ON_START": "false"}
# Three processes importing chatkitd at once, on a small machine that may be busy.
STARTUP_SECONDS = 180


@dataclass
class Cluster:
    proxy: str
    replicas: list[ServeProcess]
    admin_key: str
    database_url: str
    root: Path
    env: dict[str, str]

    @property
    def ports(self) -> set[int]:
        return {replica.port for replica in self.replicas}

    def sdk(self) -> OpenAI:
        return OpenAI(
            base_url=f"{self.proxy}/v1",
            api_key=self.admin_key,
            max_retries=0,
            _strict_response_validation=True,
        )

    def session(self, user: str, per_minute: int = 1000, **options: Any) -> Any:
        return self.sdk().beta.chatkit.sessions.create(
            user=user,
            workflow={"id": "demo"},
            rate_limits={"max_requests_per_1_minute": per_minute},
            **options,
        )

    def browser(self, secret: str) -> httpx2.Client:
        """What a user's page holds: the proxy's address and a client secret."""
        return httpx2.Client(base_url=self.proxy, headers={"Authorization": f"Bearer {secret}"}, timeout=60)

    def replace(self, index: int) -> None:
        """Start a new replica where replica ``index`` was (same port, same data dir)."""
        old = self.replicas[index]
        old.stop()
        new = ServeProcess(
            self.database_url, old.log_path.parent, self.admin_key, port=old.port, env=self.env
        )
        self.replicas[index] = new
        new.wait_ready(STARTUP_SECONDS)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("replicas")
    admin_key = "sk-test-" + secrets.token_hex(8)
    with (
        fresh_database("postgres", root / "unused.db", "chatkitd_replicas") as url,
        moto_server(root) as s3,
    ):
        # What every replica shares besides the database: the bucket. The key signing upload and
        # preview links is not configured: replicas share the one kept in the database.
        shared = {**PRODUCTION, **s3.env, "CHATKITD_STORAGE_URL": s3.new_bucket().url()}
        # Migrations run once, as their own command, before any replica starts.
        migrated = subprocess.run(
            [
                sys.executable,
                "-m",
                "chatkitd",
                "migrate",
                "--database-url",
                url,
                "--data-dir",
                str(root / "m"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrated.returncode == 0, migrated.stderr
        replicas: list[ServeProcess] = []
        try:
            for n in range(REPLICAS):
                (root / f"replica-{n}").mkdir()
                replicas.append(ServeProcess(url, root / f"replica-{n}", admin_key, env=shared))
            for replica in replicas:
                replica.wait_ready(STARTUP_SECONDS)
            with nginx([replica.port for replica in replicas]) as proxy:
                yield Cluster(proxy, replicas, admin_key, url, root, shared)
        finally:
            for replica in replicas:
                replica.stop()


def converse(client: httpx2.Client, kind: str, **params: Any) -> tuple[int, httpx2.Response]:
    """One conversation request through the proxy: (the replica that answered, the response)."""
    response = client.post("/v1/chatkit/conversation", json={"type": kind, "params": params})
    return served_by(response.headers[UPSTREAM_HEADER]), response


def events_as_they_arrive(response: httpx2.Response) -> Iterator[tuple[float, dict[str, Any]]]:
    """A streamed response's events, each with the moment it was read."""
    buffer = ""
    for chunk in response.iter_text():
        buffer += chunk
        *frames, buffer = buffer.split("\n\n")
        for frame in frames:
            if frame.strip():
                yield time.monotonic(), json.loads(frame.removeprefix("data: "))


def done_items(body: str) -> list[dict[str, Any]]:
    return [event["item"] for event in parse_sse(body) if event["type"] == "thread.item.done"]


def item_texts(items: list[dict[str, Any]]) -> list[str]:
    return [item["content"][0]["text"] for item in items if item["type"].endswith("_message")]


def test_a_chat_on_one_replica_is_read_on_every_other(cluster: Cluster) -> None:
    session = cluster.session("reader")
    sdk = cluster.sdk()
    with cluster.browser(session.client_secret) as page:
        writer, created = converse(page, "threads.create", input=user_input("hello from one replica"))
        assert created.status_code == 200, created.text
        thread_id = next(e["thread"]["id"] for e in parse_sse(created.text) if e["type"] == "thread.created")

        readers = set()
        for _ in range(REPLICAS):  # round-robin: each replica in turn
            reader, read = converse(page, "threads.get_by_id", thread_id=thread_id)
            assert read.status_code == 200, read.text
            assert item_texts(read.json()["items"]["data"]) == [
                "hello from one replica",
                "Echo: hello from one replica",
            ]
            readers.add(reader)
        assert readers == cluster.ports

        # A second message through one replica; the REST API of every replica lists it at once.
        second, added = converse(
            page, "threads.add_user_message", thread_id=thread_id, input=user_input("more")
        )
        assert added.status_code == 200, added.text
        assert item_texts(done_items(added.text)) == ["more", "Echo: more"]
        rest_readers = set()
        for _ in range(REPLICAS):
            raw = sdk.beta.chatkit.threads.with_raw_response.list_items(thread_id, order="asc")
            rest_readers.add(served_by(raw.headers[UPSTREAM_HEADER]))
            items = [item.model_dump() for item in raw.parse().data]
            assert item_texts(items) == [
                "hello from one replica",
                "Echo: hello from one replica",
                "more",
                "Echo: more",
            ]
        assert rest_readers == cluster.ports
    assert {writer, second} <= cluster.ports


def test_a_file_uploaded_through_one_replica_is_previewed_through_every_other(cluster: Cluster) -> None:
    uploads = {"file_upload": {"enabled": True, "max_file_size": 1, "max_files": 10}}
    session = cluster.session("uploader", chatkit_configuration=uploads)
    with cluster.browser(session.client_secret) as page:
        creator, created = converse(
            page, "attachments.create", name="pixel.png", size=len(PNG), mime_type="image/png"
        )
        assert created.status_code == 200, created.text
        attachment = created.json()["id"]
        descriptor = created.json()["upload_descriptor"]
        assert descriptor["url"].startswith(cluster.proxy + "/")  # links name the proxy, not a replica
        uploaded = httpx2.post(descriptor["url"], files={"file": ("pixel.png", PNG, "image/png")}, timeout=60)
        assert uploaded.status_code == 200, uploaded.text
        uploader = served_by(uploaded.headers[UPSTREAM_HEADER])
        assert uploader != creator  # the bytes went to another replica than the one that made the record

        previewers = set()
        for _ in range(REPLICAS):
            preview = httpx2.get(uploaded.json()["preview_url"], timeout=60)
            assert preview.status_code == 200, preview.text
            assert preview.content == PNG and preview.headers["content-type"] == "image/png"
            previewers.add(served_by(preview.headers[UPSTREAM_HEADER]))
        assert previewers == cluster.ports

        _, message = converse(page, "threads.create", input=user_input("see the picture", [attachment]))
        assert message.status_code == 200, message.text
        [sent] = [item for item in done_items(message.text) if item["type"] == "user_message"]
        assert [a["id"] for a in sent["attachments"]] == [attachment]


def test_server_sent_events_pass_through_the_proxy_unbuffered(cluster: Cluster) -> None:
    session = cluster.session("streamer")
    with (
        cluster.browser(session.client_secret) as page,
        page.stream(
            "POST",
            "/v1/chatkit/conversation",
            json={"type": "threads.create", "params": {"input": user_input("a slow answer please")}},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        started = time.monotonic()
        arrivals = [
            (at, event)
            for at, event in events_as_they_arrive(response)
            if event["type"] == "thread.item.updated" and "delta" in event["update"]
        ]
        ended = time.monotonic()
    # The demo streams its slow answer a word every 50 ms for about ten seconds: the first
    # words reach the client while the rest are still being written, not all at the end.
    assert len(arrivals) > 100
    first_delta = arrivals[0][0]
    assert first_delta - started < 2.0, f"first event after {first_delta - started:.1f} s"
    assert ended - first_delta > 5.0, f"the stream ended {ended - first_delta:.1f} s after its first event"
    halfway = arrivals[len(arrivals) // 2][0]
    assert halfway - first_delta > 2.0 and ended - halfway > 2.0


def test_a_session_cancelled_through_one_replica_is_refused_by_all_at_once(cluster: Cluster) -> None:
    session = cluster.session("cancelled")
    with cluster.browser(session.client_secret) as page:
        _, before = converse(page, "threads.list")
        assert before.status_code == 200, before.text
        raw = cluster.sdk().beta.chatkit.sessions.with_raw_response.cancel(session.id)
        assert raw.parse().status == "cancelled"
        canceller = served_by(raw.headers[UPSTREAM_HEADER])

        refusers = set()
        for _ in range(REPLICAS):
            replica, after = converse(page, "threads.list")
            assert after.status_code == 401, after.text
            assert after.json()["error"]["code"] == "session_cancelled"
            refusers.add(replica)
    assert refusers == cluster.ports
    assert canceller in cluster.ports


def test_the_per_minute_limit_holds_across_all_replicas_together(cluster: Cluster) -> None:
    limit = 12
    session = cluster.session("limited", per_minute=limit)
    with cluster.browser(session.client_secret) as page, ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: converse(page, "threads.list"), range(30)))
    statuses = [response.status_code for _, response in answers]
    assert statuses.count(200) == limit
    assert statuses.count(429) == 30 - limit
    refused = next(response for _, response in answers if response.status_code == 429)
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert {replica for replica, _ in answers} == cluster.ports  # each replica took its share


def test_a_replica_killed_mid_stream(cluster: Cluster) -> None:
    """SIGKILL the replica serving a stream: the client's stream breaks at once (no hang,
    nothing that looks like a finished answer), a retry lands on another replica and
    completes, and everything committed before the kill is still there."""
    sdk = cluster.sdk()
    # Committed work on every replica: a finished chat each.
    finished: dict[str, list[str]] = {}
    session = cluster.session("survivor")
    with cluster.browser(session.client_secret) as page:
        for n in range(REPLICAS):
            _, done = converse(page, "threads.create", input=user_input(f"kept {n}"))
            assert done.status_code == 200, done.text
            thread = next(e["thread"]["id"] for e in parse_sse(done.text) if e["type"] == "thread.created")
            finished[thread] = [f"kept {n}", f"Echo: kept {n}"]

        with page.stream(
            "POST",
            "/v1/chatkit/conversation",
            json={"type": "threads.create", "params": {"input": user_input("a slow story please")}},
        ) as response:
            victim = served_by(response.headers[UPSTREAM_HEADER])
            index = next(i for i, replica in enumerate(cluster.replicas) if replica.port == victim)
            seen: list[dict[str, Any]] = []
            killed_at = 0.0
            # nginx ends the response without its last chunk: the client's read fails.
            with pytest.raises(httpx2.RemoteProtocolError):
                for _, event in events_as_they_arrive(response):
                    seen.append(event)
                    deltas = [
                        e for e in seen if e["type"] == "thread.item.updated" and "delta" in e["update"]
                    ]
                    if len(deltas) == 5:
                        cluster.replicas[index].kill()
                        killed_at = time.monotonic()
            noticed_after = time.monotonic() - killed_at
        # The stream's connection died with the replica; the client drops it without closing its
        # socket (Python reports that when the socket is collected, at exit): collect it now.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        try:
            assert killed_at, "the stream ended before the replica was killed"
            assert noticed_after < 5, f"the broken stream was noticed after {noticed_after:.1f} s"
            # No finished answer reached the client.
            assert not [
                e for e in seen if e["type"] == "thread.item.done" and e["item"]["type"] != "user_message"
            ]
            thread_id = next(e["thread"]["id"] for e in seen if e["type"] == "thread.created")
            user_item = next(
                e["item"]["id"]
                for e in seen
                if e["type"] == "thread.item.done" and e["item"]["type"] == "user_message"
            )

            # The retry (what ChatKit's "retry" does) lands on a live replica and completes.
            retrier, retried = converse(
                page, "threads.retry_after_item", thread_id=thread_id, item_id=user_item
            )
            assert retried.status_code == 200, retried.text
            assert retrier != victim
            [answer] = item_texts(done_items(retried.text))
            assert answer.split() == [f"word{n}" for n in range(1, 201)]  # the demo's slow answer, whole

            # The user's message, committed before the kill, and every finished chat are all there.
            items = [
                item.model_dump() for item in sdk.beta.chatkit.threads.list_items(thread_id, order="asc").data
            ]
            texts = item_texts(items)
            assert texts[0] == "a slow story please" and len(texts) == 2
            assert texts[1] == answer
            for thread, expected in finished.items():
                kept = sdk.beta.chatkit.threads.list_items(thread, order="asc").data
                assert item_texts([item.model_dump() for item in kept]) == expected
        finally:
            cluster.replace(index)
