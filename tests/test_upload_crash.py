"""A server killed mid-upload leaves nothing for ever: the next start removes the partial file
(local folder) or aborts the unfinished multipart upload (object store), and the session gets the
file back once the upload's lease lapses. A live upload slower than its lease keeps its place."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner
from openai import OpenAI

from chatkitd.cli import main
from tests.support.chat import error_of, new_session
from tests.support.processes import serve_process, serve_process_handle
from tests.support.s3 import moto_server
from tests.support.servers import TESTED_BACKENDS, fresh_database

MIB = 1024 * 1024
UPLOADS = {"file_upload": {"enabled": True, "max_files": 10, "max_file_size": 20}}
ONE_FILE = {"file_upload": {"enabled": True, "max_files": 1, "max_file_size": 20}}
LEASE_SECONDS = 3
SHORT_LEASE = {"CHATKITD_UPLOAD_LEASE_SECONDS": str(LEASE_SECONDS)}


HEAD = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
TAIL = b"\r\n--b--\r\n"


def _start_upload_and_stall(
    base_url: str, secret: str, sent: int, size: int = 15 * MIB, path: str = "/v1/chatkit/files"
) -> socket.socket:
    """A direct upload (or one to a signed ``path``) that declares a file of ``size`` bytes, sends
    ``sent`` of them, and then waits."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=30)
    conn.sendall(
        f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode()
        + f"Authorization: Bearer {secret}\r\nContent-Length: {len(HEAD) + size + len(TAIL)}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        + HEAD
        + b"x" * sent
    )
    return conn


def _finish(conn: socket.socket, rest: int) -> bytes:
    """Send the file's last ``rest`` bytes and the closing boundary; the status line."""
    conn.sendall(b"x" * rest + TAIL)
    answer = b""
    while b"\r\n" not in answer:
        answer += conn.recv(4096)
    conn.close()
    return answer.split(b"\r\n")[0]


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _secret(base_url: str, admin_key: str, configuration: dict = UPLOADS, user: str | None = None) -> str:
    with OpenAI(base_url=f"{base_url}/v1", api_key=admin_key, max_retries=0) as sdk:
        user = user or "u_" + secrets.token_hex(4)
        return new_session(sdk, user, chatkit_configuration=configuration).client_secret


def _crash_mid_upload(
    url: str,
    data_dir: Path,
    admin_key: str,
    sent: int,
    started: Callable[[], bool],
    user: str | None = None,
    **env: str,
) -> None:
    """Start a server, stall an upload in it once ``started()`` says its bytes are stored, kill it."""
    with serve_process_handle(url, data_dir, admin_key, **env) as (base_url, process):
        _kill_mid_upload(base_url, process, _secret(base_url, admin_key, user=user), sent, started)


def _kill_mid_upload(
    base_url: str, process: subprocess.Popen[bytes], secret: str, sent: int, started: Callable[[], bool]
) -> None:
    conn = _start_upload_and_stall(base_url, secret, sent)
    _wait_for(started, "the upload to reach the store")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    conn.close()


def _direct(base_url: str, secret: str, data: bytes = b"small") -> httpx2.Response:
    return httpx2.post(
        f"{base_url}/v1/chatkit/files",
        headers={"Authorization": f"Bearer {secret}"},
        files={"file": ("f.txt", data, "text/plain")},
        timeout=30,
    )


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


def _partial_written(data_dir: Path) -> Callable[[], bool]:
    return lambda: any(p.stat().st_size for p in data_dir.glob("blobs/*/*.partial"))


@pytest.mark.parametrize("backend", TESTED_BACKENDS.values())
def test_a_direct_upload_cut_short_by_a_killed_server_gives_its_file_back(tmp_path, backend):
    # It used to keep one of the session's max_files for ever, as a record with no bytes: the
    # session's next upload, on the replica still running, was refused.
    admin_key = "sk-test-" + secrets.token_hex(8)
    with (
        fresh_database(backend, tmp_path / "chatkitd.db", "chatkitd_lapsed") as url,
        serve_process_handle(url, tmp_path, admin_key, **SHORT_LEASE) as (dying, process),
        serve_process(url, tmp_path, admin_key, **SHORT_LEASE) as living,
    ):
        secret = _secret(dying, admin_key, ONE_FILE)
        _kill_mid_upload(dying, process, secret, MIB, _partial_written(tmp_path))
        held = _direct(living, secret)
        assert held.status_code == 400 and error_of(held)["code"] == "max_files_exceeded"
        time.sleep(LEASE_SECONDS + 0.5)
        accepted = _direct(living, secret)
        assert accepted.status_code == 200, accepted.text
        again = _direct(living, secret)
        assert again.status_code == 400 and error_of(again)["code"] == "max_files_exceeded"


def test_a_direct_upload_record_left_by_a_killed_server_is_removed_at_start(tmp_path):
    admin_key = "sk-test-" + secrets.token_hex(8)
    user = "u_" + secrets.token_hex(4)
    with fresh_database("sqlite", tmp_path / "chatkitd.db", "unused") as url:
        _crash_mid_upload(url, tmp_path, admin_key, MIB, _partial_written(tmp_path), user=user, **SHORT_LEASE)
        assert _exported_attachments(url, user) == 1
        time.sleep(LEASE_SECONDS + 0.5)
        with serve_process(url, tmp_path, admin_key, **SHORT_LEASE):
            assert _exported_attachments(url, user) == 0


def _exported_attachments(url: str, user: str) -> int:
    """How many attachments ``chatkitd export`` lists for ``user``."""
    exported = CliRunner().invoke(
        main, ["export", "--user", user, "--database-url", url], catch_exceptions=False
    )
    assert exported.exit_code == 0, exported.output
    return sum(json.loads(line)["object"] == "chatkit.attachment" for line in exported.stdout.splitlines())


def test_a_live_upload_slower_than_its_lease_keeps_its_place(tmp_path):
    admin_key = "sk-test-" + secrets.token_hex(8)
    with (
        fresh_database("sqlite", tmp_path / "chatkitd.db", "unused") as url,
        serve_process(url, tmp_path, admin_key, **SHORT_LEASE) as base_url,
    ):
        # A direct upload: its file stays taken however long it lasts.
        secret = _secret(base_url, admin_key, ONE_FILE)
        slow = _start_upload_and_stall(base_url, secret, MIB, size=2 * MIB)
        time.sleep(LEASE_SECONDS * 2)
        refused = _direct(base_url, secret)
        assert refused.status_code == 400 and error_of(refused)["code"] == "max_files_exceeded"
        assert _finish(slow, MIB) == b"HTTP/1.1 200 OK"

        # A signed upload link: a second client is refused while the first is under way.
        secret = _secret(base_url, admin_key)
        created = httpx2.post(
            f"{base_url}/v1/chatkit/conversation",
            headers={"Authorization": f"Bearer {secret}"},
            json={
                "type": "attachments.create",
                "params": {"name": "a.bin", "size": 2 * MIB, "mime_type": "x/y"},
            },
        ).json()
        link = created["upload_descriptor"]["url"]
        path = link[link.index("/v1/") :]
        slow = _start_upload_and_stall(base_url, secret, MIB, size=2 * MIB, path=path)
        time.sleep(LEASE_SECONDS * 2)
        second = httpx2.post(base_url + path, files={"file": ("a.bin", b"other", "x/y")}, timeout=30)
        assert second.status_code == 409 and error_of(second)["code"] == "upload_in_progress"
        assert _finish(slow, MIB) == b"HTTP/1.1 200 OK"
