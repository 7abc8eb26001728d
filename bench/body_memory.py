"""Peak server memory while a client sends a 300 MB body, next to a small request's in the same run.

    .venv/bin/python bench/body_memory.py [--megabytes 300]

Each case starts a fresh ``chatkitd serve`` (a subprocess on a temporary data
dir), records its peak resident memory (``VmHWM``) after one small request
(the baseline), then sends ``--megabytes`` of JSON-looking bytes to one route,
declared with ``Content-Length`` or chunked, and reports the answer, how much
of the body was sent before it came, and how far the peak rose.

Target (issue 15): the oversized body is refused (413) without being held, so
the peak rises by no more than the 16 MiB a JSON body may have, plus slack
(here: 40 MiB), where it used to rise by about 700 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

# (name, method, path, chunked)
CASES = [
    ("sessions.create, Content-Length", "POST", "/v1/chatkit/sessions", False),
    ("sessions.create, chunked", "POST", "/v1/chatkit/sessions", True),
    ("conversation, chunked", "POST", "/v1/chatkit/conversation", True),
    ("playground session, chunked", "POST", "/playground/session", True),
    ("vector_stores.create, chunked", "POST", "/v1/vector_stores", True),
]


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
    """Create a session (the baseline request); its client secret."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chatkit/sessions",
        data=b'{"user": "u", "workflow": {"id": "demo"}}',
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["client_secret"]


async def send_big(
    port: int, method: str, path: str, chunked: bool, size: int, token: str
) -> tuple[str, int]:
    """Send ``size`` bytes; stop when the answer comes. Returns (status line, bytes sent)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )
    answer = asyncio.create_task(reader.readline())
    sent = 0
    body = b'{"user": "' + b"x" * (CHUNK - 10)
    try:
        while sent < size and not answer.done():
            piece = body if sent == 0 else b"x" * CHUNK
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=300)
    args = parser.parse_args()
    size = args.megabytes * CHUNK
    print(f"{'case':36} {'answer':32} {'sent MB':>8} {'peak before':>11} {'peak after':>10} {'rise':>6}")
    worst = 0.0
    for name, method, path, chunked in CASES:
        with tempfile.TemporaryDirectory() as data_dir:
            port = free_port()
            process = start(Path(data_dir), port)
            try:
                secret = small_request(port)
                token = secret if path == "/v1/chatkit/conversation" else KEY
                before = peak_mb(process.pid)
                status, sent = asyncio.run(send_big(port, method, path, chunked, size, token))
                time.sleep(0.5)
                after = peak_mb(process.pid)
            finally:
                process.terminate()
                process.wait(10)
        rise = after - before
        worst = max(worst, rise)
        print(f"{name:36} {status[:32]:32} {sent / CHUNK:8.0f} {before:10.0f}M {after:9.0f}M {rise:5.0f}M")
    verdict = "met" if worst <= TARGET_RISE_MB else "MISSED"
    print(f"worst rise {worst:.0f} MB; target <= {TARGET_RISE_MB} MB: {verdict}")


if __name__ == "__main__":
    main()
