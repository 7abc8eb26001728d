"""Connections cannot take the server down: idle and slow clients time out, a cap answers 503 with
Retry-After beyond it, and the open-file limit is raised at start (``chatkitd.serving``)."""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.conftest import ADMIN_KEY
from tests.support.servers import RunningServer, free_port, start_server

TIMEOUT = 1.0


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("connections")
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    with start_server(url, data_dir, ADMIN_KEY, client_timeout=TIMEOUT, max_connections=5) as server:
        yield server


def connect(server: RunningServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock`` (reads return nothing), or None."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def test_a_connection_that_sends_nothing_is_closed(guarded):
    with connect(guarded) as sock:
        waited = closed_within(sock, TIMEOUT + 5)
    assert waited is not None, "an idle connection was still open"


def test_a_request_head_sent_a_byte_at_a_time_is_cut_off(guarded):
    with connect(guarded) as sock:
        started = time.monotonic()
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                time.sleep(0.05)
        except OSError:
            pass
        assert time.monotonic() - started < TIMEOUT + 3, "the slow head was still being read"
        assert closed_within(sock, 5) is not None


def test_a_body_that_stops_coming_is_cut_off(guarded):
    with connect(guarded) as sock:
        sock.sendall(
            b"POST /v1/chatkit/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + ADMIN_KEY.encode()
            + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user": '
        )
        assert closed_within(sock, TIMEOUT + 5) is not None


def test_beyond_the_cap_a_request_is_a_503_with_retry_after(guarded):
    with contextlib.ExitStack() as stack:
        idle = [stack.enter_context(connect(guarded)) for _ in range(5)]
        response = httpx2.get(guarded.base_url + "/healthz", timeout=10)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "over_capacity"
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 5
    while (status := httpx2.get(guarded.base_url + "/healthz", timeout=10).status_code) != 200:
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def test_serve_raises_its_open_file_limit(tmp_path: Path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 1024:
        pytest.skip(f"no room to raise the limit here (hard limit {hard})")
    port = free_port()

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

    env = {**os.environ, "CHATKITD_DATA_DIR": str(tmp_path), "CHATKITD_API_KEY": ADMIN_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "chatkitd", "serve", "--port", str(port)],
        env=env,
        preexec_fn=low_limit,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "chatkitd serve exited"
            assert time.monotonic() < deadline, "chatkitd serve did not start"
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        limits = Path(f"/proc/{process.pid}/limits").read_text()
        line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
        assert line.split()[3] == str(hard), line
    finally:
        process.terminate()
        process.wait(15)
