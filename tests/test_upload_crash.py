"""A server killed mid-upload leaves nothing for ever: the next start removes the partial file
(local folder) or aborts the unfinished multipart upload (object store)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

from openai import OpenAI

from tests.support.chat import new_session
from tests.support.processes import serve_process, serve_process_handle
from tests.support.s3 import moto_server
from tests.support.servers import fresh_database

MIB = 1024 * 1024
UPLOADS = {"file_upload": {"enabled": True, "max_files": 10, "max_file_size": 20}}


def _start_upload_and_stall(base_url: str, secret: str, sent: int) -> socket.socket:
    """A direct upload that declares 15 MiB, sends ``sent`` bytes of the file, and then waits."""
    host, port = base_url.removeprefix("http://").split(":")
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    declared = len(head) + 15 * MIB + len(b"\r\n--b--\r\n")
    conn = socket.create_connection((host, int(port)))
    conn.sendall(
        b"POST /v1/chatkit/files HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {secret}\r\nContent-Length: {declared}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        + head
        + b"x" * sent
    )
    return conn


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _secret(base_url: str, admin_key: str) -> str:
    with OpenAI(base_url=f"{base_url}/v1", api_key=admin_key, max_retries=0) as sdk:
        return new_session(sdk, "u_" + secrets.token_hex(4), chatkit_configuration=UPLOADS).client_secret


def _crash_mid_upload(
    url: str, data_dir: Path, admin_key: str, sent: int, started: Callable[[], bool], **env: str
) -> None:
    """Start a server, stall an upload in it once ``started()`` says its bytes are stored, kill it."""
    with serve_process_handle(url, data_dir, admin_key, **env) as (base_url, process):
        conn = _start_upload_and_stall(base_url, _secret(base_url, admin_key), sent)
        _wait_for(started, "the upload to reach the store")
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        conn.close()


def test_a_partial_file_left_by_a_killed_server_is_removed_at_start(tmp_path):
    admin_key = "sk-test-" + secrets.token_hex(8)

    def partials() -> list[Path]:
        return list((tmp_path / "blobs").glob("*/*.partial"))

    with fresh_database("sqlite", tmp_path / "chatkitd.db", "unused") as url:
        _crash_mid_upload(
            url, tmp_path, admin_key, 3 * MIB, lambda: any(p.stat().st_size for p in partials())
        )
        assert partials(), "the killed server's partial file should be there before the restart"
        time.sleep(2.1)  # past the instant between a partial file's creation and its lock
        with serve_process(url, tmp_path, admin_key):
            assert partials() == []


def test_a_multipart_upload_left_by_a_killed_server_is_aborted_at_start(tmp_path):
    admin_key = "sk-test-" + secrets.token_hex(8)
    with moto_server(tmp_path) as s3, fresh_database("sqlite", tmp_path / "chatkitd.db", "unused") as url:
        bucket = s3.new_bucket()
        env = {**s3.env, "CHATKITD_STORAGE_URL": bucket.url(), "CHATKITD_UPLOAD_ABANDONED_SECONDS": "1"}
        _crash_mid_upload(url, tmp_path, admin_key, 9 * MIB, lambda: bool(bucket.unfinished_uploads()), **env)
        assert bucket.unfinished_uploads(), "the killed server's upload should be there before the restart"
        time.sleep(1.5)
        with serve_process(url, tmp_path, admin_key, **env):
            assert bucket.unfinished_uploads() == []
        assert bucket.keys() == []
