"""Shared fixtures: a real chatkitd server per database backend, and SDK clients for it.

Every test that takes ``server`` runs twice: on SQLite and on PostgreSQL.
PostgreSQL tests skip (saying why) when no server answers at 127.0.0.1:5432,
except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai import OpenAI

from tests.support.chat import chat_for  # noqa: F401 - a fixture, shared by the conversation tests
from tests.support.servers import TESTED_BACKENDS, RunningServer, fresh_database, start_server

ADMIN_KEY = "sk-test-" + secrets.token_hex(8)


@pytest.fixture(scope="session", params=list(TESTED_BACKENDS.values()))
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sqlite_file = tmp_path_factory.mktemp("sqlite") / "chatkitd.db"
    with fresh_database(request.param, sqlite_file, "chatkitd_test") as url:
        yield url


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir: Path = tmp_path_factory.mktemp("data")
    with start_server(database_url, data_dir, ADMIN_KEY) as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> Iterator[OpenAI]:
    with server.sdk(ADMIN_KEY) as sdk:
        yield sdk


@pytest.fixture
def user() -> str:
    """A fresh end-user id, so tests never see each other's threads."""
    return f"user_{uuid.uuid4().hex[:10]}"
