"""The ``chatkitd`` command line: key management and migrate in-process, ``serve`` for real."""

from __future__ import annotations

import importlib.metadata
import os
import re
import socket
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
from tests.support.servers import free_port, fresh_database, start_server

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


@pytest.fixture
def migrated(data_dir: Path) -> Path:
    """A data dir whose database exists, as a server's does."""
    assert cli("migrate").exit_code == 0
    return data_dir


def test_migrate_creates_the_schema(data_dir):
    result = cli("migrate")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"New database at {data_dir / 'chatkitd.db'} is up to date.\n"
    with sqlite3.connect(data_dir / "chatkitd.db") as db:
        tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
    assert {"alembic_version", "projects", "api_keys", "sessions", "threads", "items"} <= tables
    # Running it again is harmless.
    again = cli("migrate")
    assert again.exit_code == 0 and again.stdout == f"Database at {data_dir / 'chatkitd.db'} is up to date.\n"


def test_keys_create_list_revoke(migrated):
    data_dir = migrated
    created = cli("keys", "create", "--project", "acme", "--name", "ci")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert KEY.fullmatch(token), created.stdout
    found = re.search(r"# id (key_[0-9a-f]+), project acme, in (.*)", created.stderr)
    assert found, created.stderr
    key_id = found.group(1)
    assert found.group(2) == str(data_dir / "chatkitd.db")  # says where it wrote

    listed = cli("keys", "list")
    assert listed.exit_code == 0
    (line,) = [row for row in listed.stdout.splitlines() if row.startswith(key_id)]
    fields = line.split("\t")
    assert fields[1] == "acme"
    assert fields[2] == "…" + token[-4:]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields[3]), fields  # UTC, saying so
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


def test_revoking_an_unknown_key_fails(migrated):
    result = CliRunner().invoke(main, ["keys", "revoke", "key_nope"])
    assert result.exit_code != 0
    assert "No active key with id key_nope" in result.output


def test_keys_from_different_projects_do_not_share_threads(migrated):
    data_dir = migrated
    first = cli("keys", "create", "--project", "one").stdout.strip()
    second = cli("keys", "create", "--project", "two").stdout.strip()
    assert first != second
    with start_server(Settings().resolved_database_url, data_dir, None) as server:
        with server.sdk(first) as one, server.sdk(second) as two:
            created = one.beta.chatkit.sessions.create(user="u", workflow={"id": "demo"})
            with pytest.raises(openai.NotFoundError):
                two.beta.chatkit.sessions.cancel(created.id)


def test_version_is_printed():
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"chatkitd {importlib.metadata.version('chatkitd')}\n"


EXAMPLE = Path(__file__).parents[1] / "examples" / "support-agent.yaml"
READING_AND_WRITING = [
    ["keys", "create"],
    ["keys", "list"],
    ["keys", "revoke", "key_x"],
    ["workflows", "deploy", str(EXAMPLE)],
    ["workflows", "list"],
    ["workflows", "show", "support-agent"],
    ["traces", "list"],
    ["traces", "show", "trace_x"],
]


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CHATKITD_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("args", READING_AND_WRITING, ids=" ".join)
def test_a_command_with_no_database_refuses_and_says_where(args, tmp_path, monkeypatch, no_settings):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    expected = tmp_path / ".chatkitd" / "chatkitd.db"
    assert f"No chatkitd database at {expected}, so nothing was done." in result.stderr
    assert f"relative to the current directory ({tmp_path})" in result.stderr
    assert "--data-dir" in result.stderr and "chatkitd migrate" in result.stderr
    assert not (tmp_path / ".chatkitd").exists()  # nothing was created


def test_data_dir_and_database_url_reach_the_server_s_data_from_anywhere(tmp_path, monkeypatch, no_settings):
    server_dir, elsewhere = tmp_path / "server", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert cli("migrate", "--data-dir", str(server_dir)).exit_code == 0
    created = cli("keys", "create", "--name", "from-afar", "--data-dir", str(server_dir))
    assert created.exit_code == 0 and f"in {server_dir / 'chatkitd.db'}" in created.stderr
    # The option wins over the environment.
    monkeypatch.setenv("CHATKITD_DATA_DIR", str(tmp_path / "wrong"))
    listed = cli("keys", "list", "--data-dir", str(server_dir))
    assert "from-afar" in listed.stdout
    url = f"sqlite:///{server_dir / 'chatkitd.db'}"  # a plain URL gets its async driver
    deployed = cli("workflows", "deploy", str(EXAMPLE), "--database-url", url)
    assert deployed.exit_code == 0, deployed.output
    assert "support-agent" in cli("workflows", "list", "--database-url", url).stdout
    assert "support-agent" in cli("workflows", "list", "--data-dir", str(server_dir)).stdout
    assert not (elsewhere / ".chatkitd").exists() and not (tmp_path / "wrong").exists()


@pytest.mark.postgres
def test_an_empty_postgresql_database_is_refused_until_migrated(tmp_path, no_settings):
    with fresh_database("postgres", tmp_path / "unused.db", "chatkitd_cli") as url:
        refused = CliRunner().invoke(main, ["keys", "create", "--database-url", url])
        assert refused.exit_code == 1
        assert "No chatkitd database at postgresql+asyncpg://postgres@127.0.0.1:5432/" in refused.stderr
        assert cli("migrate", "--database-url", url).exit_code == 0
        assert cli("keys", "create", "--database-url", url).exit_code == 0


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")}
    executable = Path(sys.executable).with_name("chatkitd")
    return subprocess.run(
        [str(executable), *args], env={**environment, **env}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CHATKITD_PORT": "abc"}, "Invalid setting CHATKITD_PORT='abc': Input should be a valid integer"),
        ({"CHATKITD_MODE": "prod"}, "Invalid setting CHATKITD_MODE='prod': Input should be 'development'"),
        ({"CHATKITD_LOG_LEVEL": "loud"}, "Invalid setting CHATKITD_LOG_LEVEL='loud'"),
        ({"CHATKITD_RESPONSE_CACHE_BYTES": "-1"}, "Invalid setting CHATKITD_RESPONSE_CACHE_BYTES='-1'"),
        # Every URL setting is checked, not only some: these were accepted and failed on first use.
        ({"CHATKITD_SEARXNG_URL": "searx.local"}, "Invalid setting CHATKITD_SEARXNG_URL='searx.local': must"),
        ({"CHATKITD_EMBEDDING_BASE_URL": "x"}, "Invalid setting CHATKITD_EMBEDDING_BASE_URL='x': must"),
        ({"CHATKITD_TRANSCRIPTION_BASE_URL": "x"}, "Invalid setting CHATKITD_TRANSCRIPTION_BASE_URL='x'"),
        # A URL may carry a password: the setting is named, its value never echoed.
        ({"CHATKITD_DATABASE_URL": "mysql://u:hunter2@db/x"}, "Invalid setting CHATKITD_DATABASE_URL: use"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
@pytest.mark.parametrize("command", [["keys", "list"], ["serve"], ["migrate"]], ids=" ".join)
def test_a_bad_setting_is_one_line_naming_it(env, named, command, tmp_path):
    result = run_cli(*command, CHATKITD_DATA_DIR=str(tmp_path), **env)
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: {named}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr + result.stdout


def test_a_data_dir_that_is_a_file_is_named(tmp_path):
    (tmp_path / "data").write_text("not a directory")
    for command in (["keys", "list"], ["serve"]):
        result = run_cli(*command, CHATKITD_DATA_DIR=str(tmp_path / "data"))
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"Error: Invalid setting CHATKITD_DATA_DIR='{tmp_path / 'data'}': is a file, not a directory."
        )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CHATKITD_WORKFLOWS_DIR": "/nonexistent/flows"}, "Invalid setting CHATKITD_WORKFLOWS_DIR="),
        ({"CHATKITD_HOST": "no-such-host.invalid"}, "Cannot listen on no-such-host.invalid:"),
        ({"CHATKITD_PORT": "in-use"}, "Cannot listen on 127.0.0.1:"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_serve_refuses_what_it_cannot_serve_with_in_one_line(env, named, tmp_path):
    """Checked before the database is touched: one line naming the setting, nothing created (a
    missing workflows folder was a traceback; a port in use, uvicorn's ``[Errno 98]`` after the
    migrations ran and a first key was made)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        if env.get("CHATKITD_PORT") == "in-use":
            env = {"CHATKITD_PORT": str(taken.getsockname()[1])}
        result = run_cli("serve", CHATKITD_DATA_DIR=str(tmp_path / "data"), **env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"Error: {named}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "CHATKITD_" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()
    # The other commands do not use these: run with the server's environment, they still work.
    assert "Invalid setting" not in run_cli("keys", "list", CHATKITD_DATA_DIR=str(tmp_path), **env).stderr


def test_the_cli_starts_without_its_heavy_libraries():
    """Each command imports what it uses: the CLI itself loads none of these (it took ~5 s when it did)."""
    heavy = ["agents", "openai", "chatkit", "sqlalchemy", "alembic", "uvicorn", "starlette", "pydantic"]
    probe = f"import sys, chatkitd.cli; print(sorted(set({heavy!r}) & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
    assert run_cli("--help").returncode == 0


@pytest.mark.parametrize(
    "command", [["keys", "list"], ["workflows", "list"], ["traces", "list"]], ids=" ".join
)
def test_commands_that_read_the_database_do_not_load_the_agents_sdk(command, migrated):
    """Listing keys, workflows or traces needs the database, not the SDK (about 2 s to import), nor
    chatkit's types (a quarter of a command's start, loaded to check the REST shapes' version)."""
    probe = (
        "import sys; from chatkitd.cli import main; main(sys.argv[1:], standalone_mode=False); "
        "print(sorted({'agents', 'openai', 'uvicorn', 'starlette', 'chatkit'} & set(sys.modules)), "
        "file=sys.stderr)"
    )
    env = {**os.environ, "CHATKITD_DATA_DIR": str(migrated)}
    loaded = subprocess.run([sys.executable, "-c", probe, *command], env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr.strip().splitlines()[-1] == "[]"


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
    assert first.wait_healthy().json() == {"status": "ok", "database": "ok", "storage": "ok"}
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
