"""The ``chatkitd`` command line: key management and migrate in-process, ``serve`` for real."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import openai
import pytest
from click.testing import CliRunner

from chatkitd.cli import main
from chatkitd.settings import Settings
from tests.support.servers import free_port, start_server

KEY = re.compile(r"ck-admin-[A-Za-z0-9_-]{40,}")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CHATKITD_API_KEY", "CHATKITD_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHATKITD_DATA_DIR", str(tmp_path))
    return tmp_path


def cli(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def test_migrate_creates_the_schema(data_dir):
    result = cli("migrate")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout
    with sqlite3.connect(data_dir / "chatkitd.db") as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
    assert {"alembic_version", "projects", "api_keys", "sessions", "threads", "items"} <= tables
    # Running it again is harmless.
    assert cli("migrate").exit_code == 0


def test_keys_create_list_revoke(data_dir):
    created = cli("keys", "create", "--project", "acme", "--name", "ci")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert KEY.fullmatch(token), created.stdout
    found = re.search(r"# id (key_[0-9a-f]+), project acme", created.stderr)
    assert found, created.stderr
    key_id = found.group(1)

    listed = cli("keys", "list")
    assert listed.exit_code == 0
    (line,) = [row for row in listed.stdout.splitlines() if row.startswith(key_id)]
    fields = line.split("\t")
    assert fields[1] == "acme"
    assert fields[2] == "…" + token[-4:]
    assert fields[4] == "active"
    assert fields[5] == "ci"
    assert token not in listed.output

    settings = Settings()
    with start_server(settings.resolved_database_url, data_dir, None) as server:
        with server.sdk(token) as sdk:
            session = sdk.beta.chatkit.sessions.create(user="u", workflow={"id": "demo"})
            assert session.user == "u"

            revoked = cli("keys", "revoke", key_id)
            assert revoked.exit_code == 0
            assert f"Revoked {key_id}" in revoked.stdout
            with pytest.raises(openai.AuthenticationError):
                sdk.beta.chatkit.threads.list()

    assert key_id not in cli("keys", "list").stdout
    everything = cli("keys", "list", "--all").stdout
    assert f"{key_id}\tacme" in everything and "\trevoked\t" in everything


def test_revoking_an_unknown_key_fails(data_dir):
    result = CliRunner().invoke(main, ["keys", "revoke", "key_nope"])
    assert result.exit_code != 0
    assert "No active key with id key_nope" in result.output


def test_keys_from_different_projects_do_not_share_threads(data_dir):
    first = cli("keys", "create", "--project", "one").stdout.strip()
    second = cli("keys", "create", "--project", "two").stdout.strip()
    assert first != second
    with start_server(Settings().resolved_database_url, data_dir, None) as server:
        with server.sdk(first) as one, server.sdk(second) as two:
            created = one.beta.chatkit.sessions.create(user="u", workflow={"id": "demo"})
            with pytest.raises(openai.NotFoundError):
                two.beta.chatkit.sessions.cancel(created.id)


# -- the real thing ---------------------------------------------------------------------


class Served:
    """``chatkitd serve`` in a subprocess, its output collected as it comes."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")}
        env.update(CHATKITD_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", CHATKITD_LOG_LEVEL="warning")
        executable = Path(sys.executable).with_name("chatkitd")
        self.process = subprocess.Popen(
            [str(executable), "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None  # stdout=PIPE
        self.stdout = self.process.stdout
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.base_url = f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        for line in self.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_healthy(self, timeout: float = 60) -> httpx2.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output
            try:
                response = httpx2.get(f"{self.base_url}/healthz", timeout=2)
                if response.status_code == 200:
                    return response
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"chatkitd serve never became healthy:\n{self.output}")

    def sdk(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=f"{self.base_url}/v1",
            api_key=key,
            max_retries=0,
            _strict_response_validation=True,
        )

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._reader.join(10)
        self.stdout.close()
        return self.output


@pytest.fixture
def serve(data_dir) -> Iterator[Callable[[], Served]]:
    started: list[Served] = []

    def start() -> Served:
        served = Served(data_dir)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.stop()


def test_serve_prints_a_first_admin_key_once(serve):
    first = serve()
    assert first.wait_healthy().json() == {"status": "ok"}
    (token,) = KEY.findall(first.output)
    assert "shown only this once" in first.output
    with first.sdk(token) as sdk:
        session = sdk.beta.chatkit.sessions.create(user="first", workflow={"id": "demo"})
        assert session.status == "active"
    assert KEY.findall(first.stop()) == [token]

    # Same data dir, second start: the stored key still works and none is printed.
    second = serve()
    second.wait_healthy()
    with second.sdk(token) as sdk:
        assert sdk.beta.chatkit.sessions.cancel(session.id).status == "cancelled"
        assert sdk.beta.chatkit.threads.list().data == []
    assert KEY.findall(second.stop()) == []
