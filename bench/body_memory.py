"""Peak server memory while a client sends a 300 MB body, next to a small request's in the same run.

    .venv/bin/python bench/body_memory.py [--megabytes 300]

Each case of the first table starts a fresh ``chatkitd serve`` (a subprocess on
a temporary data dir), records its peak resident memory (``VmHWM``) after one
small request (the baseline), then sends ``--megabytes`` of JSON-looking bytes
to one route, declared with ``Content-Length`` or chunked, and reports the
answer, how much of the body was sent before it came, and how far the peak
rose. The upload routes get a multipart body holding a file of that size too
(the session allows 512 MB: the file is stored, streamed).

The second table sends the same body, declared and chunked, to every route of
the app that takes one (read from its route table), on one server: the rise
of each is over the peak of every case before it.

"(connection reset)" is this raw client's: it keeps writing after the 413 and the
closed connection's reset can reach it before the answer; ``httpx`` (the ``openai``
SDK) reads the 413 (``tests/test_errors.py``).

Target (issue 15): the oversized body is refused (413) without being held, so
the peak rises by no more than the 16 MiB a JSON body may have, plus slack
(here: 40 MiB), where it used to rise by about 700 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-body-memory"
CHUNK = 1024 * 1024
TARGET_RISE_MB = 40

BOUNDARY = "bench-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
# (name, method, path, chunked, content type); {upload} is a fresh attachments.create link
CASES = [
    ("sessions.create, Content-Length", "POST", "/v1/chatkit/sessions", False, "application/json"),
    ("sessions.create, chunked", "POST", "/v1/chatkit/sessions", True, "application/json"),
    ("conversation, Content-Length", "POST", "/v1/chatkit/conversation", False, "application/json"),
    ("conversation, chunked", "POST", "/v1/chatkit/conversation", True, "application/json"),
    ("playground session, chunked", "POST", "/playground/session", True, "application/json"),
    ("vector_stores.create, chunked", "POST", "/v1/vector_stores", True, "application/json"),
    ("direct upload, JSON, chunked", "POST", "/v1/chatkit/files", True, "application/json"),
    ("direct upload, a file, chunked", "POST", "/v1/chatkit/files", True, MULTIPART),
    ("direct upload, a file, Content-Length", "POST", "/v1/chatkit/files", False, MULTIPART),
    ("upload link, a file, chunked", "POST", "{upload}", True, MULTIPART),
    ("Files API, a file, chunked", "POST", "/v1/files", True, MULTIPART),
]
# Routes whose credential is a session's client secret (or a signed link's, in the path).
CLIENT_ROUTES = ("/v1/chatkit/conversation", "/v1/chatkit/files")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def start(data_dir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "CHATKITD_DATA_DIR": str(data_dir),
        "CHATKITD_API_KEY": KEY,
        "CHATKITD_PORT": str(port),
        "CHATKITD_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "chatkitd", "serve"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("chatkitd did not start")


def small_request(port: int) -> str:
    """Create a session that may upload 512 MB files (the baseline request); its client secret."""
    body = {
        "user": "u",
        "workflow": {"id": "demo"},
        "rate_limits": {"max_requests_per_1_minute": 10_000},
        "chatkit_configuration": {"file_upload": {"enabled": True, "max_file_size": 512, "max_files": 1000}},
    }
    return post_json(port, "/v1/chatkit/sessions", body, KEY)["client_secret"]


def post_json(port: int, path: str, body: dict, token: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def upload_link(port: int, secret: str) -> str:
    """The path of a new attachment's signed upload link."""
    params = {"name": "big.bin", "size": 1, "mime_type": "application/octet-stream"}
    url = post_json(
        port, "/v1/chatkit/conversation", {"type": "attachments.create", "params": params}, secret
    )["upload_descriptor"]["url"]
    return url[url.index("/v1/") :]


async def send_big(
    port: int,
    method: str,
    path: str,
    chunked: bool,
    size: int,
    token: str,
    content_type: str = "application/json",
) -> tuple[str, int]:
    """Send ``size`` bytes (JSON-looking, or one multipart file); stop when the answer comes.
    Returns (status line, bytes sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if content_type == MULTIPART:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    else:
        head, tail = b'{"user": "', b'"}'
    total = len(head) + size + len(tail)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\n{framing}\r\n\r\n".encode()
    )
    answer = asyncio.create_task(reader.readline())
    sent = 0
    filler = b"x" * CHUNK
    try:
        for piece in (head, *([filler] * (size // CHUNK)), tail):
            if answer.done():
                break
            writer.write(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
            sent += len(piece)
        if chunked and not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    try:
        status = (await asyncio.wait_for(answer, 120)).decode().strip()
    except TimeoutError:
        status = "(no answer)"
    except ConnectionError:
        status = "(connection reset)"
    writer.close()
    return status, sent


def body_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of the app that takes a body, path parameters filled in."""
    from chatkitd.app import create_app  # noqa: PLC0415 - only to read its route table
    from chatkitd.settings import Settings  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(data_dir=Path(data_dir)))
    found = []
    for route in app.routes:
        for method in sorted(getattr(route, "methods", None) or ()):
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                found.append((method, re.sub(r"\{[^}]+\}", "x_1", route.path)))  # type: ignore[attr-defined]
    return found


def row(name: str, status: str, sent: int, before: float, after: float) -> None:
    print(
        f"{name:44} {status[:32]:32} {sent / CHUNK:8.0f} {before:10.0f}M {after:9.0f}M {after - before:5.0f}M"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=300)
    args = parser.parse_args()
    size = args.megabytes * CHUNK
    header = f"{'case':44} {'answer':32} {'sent MB':>8} {'peak before':>11} {'peak after':>10} {'rise':>6}"
    print(header)
    worst = 0.0
    for name, method, path, chunked, content_type in CASES:
        with tempfile.TemporaryDirectory() as data_dir:
            port = free_port()
            process = start(Path(data_dir), port)
            try:
                secret = small_request(port)
                if path == "{upload}":
                    path = upload_link(port, secret)
                token = secret if path.startswith(CLIENT_ROUTES) else KEY
                before = peak_mb(process.pid)
                status, sent = asyncio.run(send_big(port, method, path, chunked, size, token, content_type))
                time.sleep(0.5)
                after = peak_mb(process.pid)
            finally:
                process.terminate()
                process.wait(10)
        worst = max(worst, after - before)
        row(name, status, sent, before, after)

    print(f"\nevery route that takes a body, {args.megabytes} MB of JSON, on one server\n{header}")
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        process = start(Path(data_dir), port)
        try:
            secret = small_request(port)
            for method, path in body_routes():
                token = secret if path.startswith(CLIENT_ROUTES) else KEY
                for chunked in (False, True):
                    before = peak_mb(process.pid)
                    status, sent = asyncio.run(send_big(port, method, path, chunked, size, token))
                    time.sleep(0.2)
                    after = peak_mb(process.pid)
                    worst = max(worst, after - before)
                    row(
                        f"{method} {path}, {'chunked' if chunked else 'Content-Length'}",
                        status,
                        sent,
                        before,
                        after,
                    )
        finally:
            process.terminate()
            process.wait(10)
    verdict = "met" if worst <= TARGET_RISE_MB else "MISSED"
    print(f"worst rise {worst:.0f} MB; target <= {TARGET_RISE_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
