"""Connections cannot take the server down: idle and slow clients time out, a cap answers 503 with
Retry-After beyond it, and the open-file limit is raised at start (``chatkitd.serving``)."""

from __future__ import annotations

import contextlib
import json
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
from tests.support.chat import new_session, user_input
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


def healthz(server: RunningServer) -> httpx2.Response:
    return httpx2.get(server.base_url + "/healthz", timeout=10)


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def test_idle_connections_beyond_the_cap_make_room_for_a_new_client(guarded):
    with contextlib.ExitStack() as stack:
        idle = [stack.enter_context(connect(guarded)) for _ in range(8)]
        time.sleep(0.2)
        response = healthz(guarded)
        assert response.status_code == 200, response.text
        time.sleep(0.2)
        # The longest idle went first; at most the cap (5, this one's included) stays open.
        assert [still_open(sock) for sock in idle] == [False] * 4 + [True] * 4


def test_half_sent_bodies_make_room_too(guarded):
    head = (
        b"POST /v1/chatkit/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + ADMIN_KEY.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    with contextlib.ExitStack() as stack:
        for _ in range(8):
            stack.enter_context(connect(guarded)).sendall(head)
        time.sleep(0.2)
        response = healthz(guarded)
        assert response.status_code == 200, response.text


def start_slow_answer(server: RunningServer, secret: str) -> socket.socket:
    """A conversation stream of the demo's slow answer (about 10 s), its head read."""
    body = json.dumps({"type": "threads.create", "params": {"input": user_input("slow")}}).encode()
    sock = connect(server)
    sock.sendall(
        b"POST /v1/chatkit/conversation HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + secret.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    assert sock.recv(12) == b"HTTP/1.1 200"
    return sock


def test_beyond_the_cap_of_requests_in_progress_a_request_is_a_503_with_retry_after(guarded):
    with guarded.sdk(ADMIN_KEY) as sdk:
        secret = new_session(sdk, "capped").client_secret
    with contextlib.ExitStack() as stack:
        for _ in range(5):
            stack.enter_context(start_slow_answer(guarded, secret))
        response = healthz(guarded)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "over_capacity"
    deadline = time.monotonic() + 5
    while (status := healthz(guarded).status_code) != 200:
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def test_a_client_that_does_not_read_its_answer_is_cut_off(guarded):
    size = 16 * 1024 * 1024  # beyond what the kernel's socket buffers hold
    with guarded.sdk(ADMIN_KEY) as sdk:
        file = sdk.files.create(file=("big.bin", os.urandom(size)), purpose="assistants")
    sock = connect(guarded)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with sock:
        sock.sendall(
            f"GET /v1/files/{file.id}/content HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {ADMIN_KEY}\r\n\r\n".encode()
        )
        time.sleep(TIMEOUT + 3)  # reading nothing
        received = 0
        sock.settimeout(5)
        try:
            while chunk := sock.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass
    assert received < size, "the server waited for a client that did not read"
    assert healthz(guarded).status_code == 200


@contextlib.contextmanager
def serve_at_file_limit(data_dir: Path, soft: int, hard: int) -> Iterator[tuple[int, int]]:
    """``chatkitd serve`` started with that open-file limit (as ``ulimit -n`` would set it),
    answering: its port and pid."""
    port = free_port()

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    env = {**os.environ, "CHATKITD_DATA_DIR": str(data_dir), "CHATKITD_API_KEY": ADMIN_KEY}
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
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(15)


def test_serve_raises_its_open_file_limit(tmp_path: Path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 1024:
        pytest.skip(f"no room to raise the limit here (hard limit {hard})")
    with serve_at_file_limit(tmp_path, 1024, hard) as (_, pid):
        limits = Path(f"/proc/{pid}/limits").read_text()
        line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
        assert line.split()[3] == str(hard), line


def test_serve_answers_beside_1100_idle_connections_at_a_1024_file_limit(tmp_path: Path):
    """The issue's own reproduction: soft and hard limit 1 024 (``ulimit -n 1024``), nothing to raise."""
    with serve_at_file_limit(tmp_path, 1024, 1024) as (port, _), contextlib.ExitStack() as stack:
        for _ in range(1100):
            stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
        for _ in range(3):
            response = httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert response.status_code == 200, response.text
