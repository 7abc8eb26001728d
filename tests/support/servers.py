"""Running a real chatkitd (uvicorn on a free port) inside the test process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from openai import OpenAI

from chatkitd.app import create_app
from chatkitd.platform import Platform
from chatkitd.serving import uvicorn_config
from chatkitd.settings import Settings

T = TypeVar("T")
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Every database back end (``chatkitd.store.db.BACKENDS``) and the name the suite runs it under:
# each store and REST test runs once per row (tests/conftest.py).
TESTED_BACKENDS = {"sqlite": "sqlite", "postgresql": "postgres"}
IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningServer:
    base_url: str
    platform: Platform
    loop: asyncio.AbstractEventLoop
    settings: Settings

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run a coroutine on the server's own event loop (where its database engine lives)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def sdk(self, api_key: str) -> OpenAI:
        return OpenAI(
            base_url=f"{self.base_url}/v1",
            api_key=api_key,
            max_retries=0,
            _strict_response_validation=True,
        )


@contextlib.contextmanager
def start_server(
    database_url: str, data_dir: Path, admin_key: str | None, **overrides: Any
) -> Iterator[RunningServer]:
    overrides.setdefault("log_level", "warning")  # no access log in the suite's output
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        api_key=admin_key,
        port=free_port(),
        **overrides,
    )
    platform = Platform(settings)
    # ``chatkitd serve``'s own configuration, so the tests run with its guards.
    config = uvicorn_config(
        create_app(settings, platform=platform), settings, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("chatkitd test server did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(f"http://127.0.0.1:{settings.port}", platform, loop, settings)
    finally:
        server.should_exit = True
        thread.join(15)
        loop.close()


@contextlib.contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A throwaway database on the local PostgreSQL, dropped afterwards."""
    import asyncpg

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def fresh_database(backend: str, sqlite_file: Path, name: str) -> Iterator[str]:
    """The URL of a new, empty database: ``sqlite_file``, or a PostgreSQL database
    named ``name_<random>`` and dropped afterwards.

    When PostgreSQL does not answer, the test skips and says why, except in CI
    (``CI=true``), where that is a failure.
    """
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{sqlite_file}"
        return
    database = postgres_database(f"{name}_{uuid.uuid4().hex[:12]}")
    try:
        url = database.__enter__()
    except OSError as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but {PG_ADMIN_URL} is unreachable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({error}); set it up or run in CI")
    try:
        yield url
    finally:
        database.__exit__(None, None, None)
