"""``chatkitd serve`` in a subprocess, as deployments run it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2

from tests.support.servers import free_port


@contextlib.contextmanager
def serve_process(database_url: str, data_dir: Path, admin_key: str, **env: str) -> Iterator[str]:
    """Start ``python -m chatkitd serve`` and yield its base URL once it answers."""
    with serve_process_handle(database_url, data_dir, admin_key, **env) as (base_url, _):
        yield base_url


@contextlib.contextmanager
def serve_process_handle(
    database_url: str, data_dir: Path, admin_key: str, **env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``serve_process``, also yielding the process (to kill it the hard way)."""
    port = free_port()
    environment = {
        **os.environ,
        "CHATKITD_DATABASE_URL": database_url,
        "CHATKITD_DATA_DIR": str(data_dir),
        "CHATKITD_API_KEY": admin_key,
        "CHATKITD_LOG_LEVEL": "warning",
        **env,
    }
    log = open(data_dir / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "chatkitd", "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"chatkitd serve exited: {(data_dir / log.name).read_text()[-2000:]}")
            try:
                if httpx2.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chatkitd serve did not start")
            time.sleep(0.1)
        yield base_url, process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
