"""A busy or unavailable database is a 503 with Retry-After, logged once per outage, never a 500.

SQLite: another process holds the write lock (a long write in a second server
sharing the data dir). PostgreSQL: the server goes away (a TCP proxy in front
of it is cut: connections reset, new ones refused) and comes back.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from chatkitd.knowledge.worker import POLL_SECONDS
from chatkitd.store.availability import LOCK_TIMEOUT
from tests.conftest import ADMIN_KEY
from tests.support.chat import error_of, user_input
from tests.support.servers import postgres_database, start_server
from tests.support.tcp_proxy import tcp_proxy

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
SESSION = {"user": "u", "workflow": {"id": "demo"}, "rate_limits": {"max_requests_per_1_minute": 1000}}


def outage_logs(records: list[logging.LogRecord]) -> tuple[list[str], list[logging.LogRecord]]:
    """The outage lines chatkitd logged, and every record that carries a traceback."""
    lines = [r.getMessage() for r in records if r.name == "chatkitd" and "database" in r.getMessage()]
    return lines, [r for r in records if r.exc_info]


def assert_away(response: httpx2.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    error = error_of(response)
    assert (error["type"], error["code"]) == ("server_error", code)


def test_sqlite_writer_that_cannot_get_the_lock_is_a_503(server, caplog):
    if not server.settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    path = server.settings.resolved_database_url.split(":///", 1)[1]
    # Another process's long write: it holds SQLite's write lock.
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    caplog.set_level(logging.INFO)
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            writes = list(
                pool.map(
                    lambda _: httpx2.post(
                        server.base_url + "/v1/chatkit/sessions", json=SESSION, headers=ADMIN, timeout=60
                    ),
                    range(4),
                )
            )
            # Reads go on meanwhile (WAL).
            assert httpx2.get(server.base_url + "/healthz", timeout=30).status_code == 200
        waited = time.monotonic() - started
        for response in writes:
            assert_away(response, "database_busy")
        assert waited < LOCK_TIMEOUT * 4, "each write waits for the lock at most once"
    finally:
        other.execute("ROLLBACK")
        other.close()
    after = httpx2.post(server.base_url + "/v1/chatkit/sessions", json=SESSION, headers=ADMIN, timeout=30)
    assert after.status_code == 200, after.text
    lines, tracebacks = outage_logs(caplog.records)
    assert len([line for line in lines if "busy" in line]) == 1, lines
    assert len([line for line in lines if "available again" in line]) == 1, lines
    assert tracebacks == []


def test_postgres_outage_is_a_503_logged_once(tmp_path, caplog):
    name = f"chatkitd_outage_{uuid.uuid4().hex[:10]}"
    try:
        database = postgres_database(name)
        database.__enter__()
    except OSError as error:
        pytest.skip(f"PostgreSQL not reachable ({error})")
    try:
        with (
            tcp_proxy(("127.0.0.1", 5432)) as proxy,
            start_server(
                f"postgresql+asyncpg://postgres@127.0.0.1:{proxy.port}/{name}", tmp_path, ADMIN_KEY
            ) as server,
            httpx2.Client(base_url=server.base_url, headers=ADMIN, timeout=30) as http,
        ):
            session = http.post("/v1/chatkit/sessions", json=SESSION).json()
            chat = {"Authorization": f"Bearer {session['client_secret']}"}
            assert http.get("/v1/chatkit/threads").status_code == 200
            caplog.set_level(logging.INFO)
            # A chat whose answer (and trace) ends while the database is away.
            slow = ThreadPoolExecutor(1).submit(
                lambda: http.post(
                    "/v1/chatkit/conversation",
                    json={"type": "threads.create", "params": {"input": user_input("slow")}},
                    headers=chat,
                    timeout=60,
                )
            )
            time.sleep(1)
            proxy.cut()
            for _ in range(5):
                assert_away(http.post("/v1/chatkit/sessions", json=SESSION), "database_unavailable")
                assert_away(http.get("/v1/chatkit/threads", params={"user": "u"}), "database_unavailable")
                assert_away(http.get("/healthz"), "database_unavailable")
                conversation = http.post(
                    "/v1/chatkit/conversation",
                    json={"type": "threads.list", "params": {}},
                    headers=chat,
                )
                assert_away(conversation, "database_unavailable")
            # Background work meets the outage too (the ingestion worker polls, the trace is saved).
            slow.result(60)
            time.sleep(POLL_SECONDS + 0.5)
            proxy.restore()
            deadline = time.monotonic() + 20
            while http.get("/healthz").status_code != 200:
                assert time.monotonic() < deadline, "chatkitd did not recover"
                time.sleep(0.2)
            assert http.post("/v1/chatkit/sessions", json=SESSION).status_code == 200
            assert http.get("/v1/chatkit/threads", params={"user": "u2"}).status_code == 200
    finally:
        database.__exit__(None, None, None)
    lines, tracebacks = outage_logs(caplog.records)
    assert len([line for line in lines if "unavailable" in line]) == 1, lines
    assert len([line for line in lines if "available again" in line]) == 1, lines
    assert tracebacks == [], [f"{r.name}: {r.getMessage()}" for r in tracebacks]
