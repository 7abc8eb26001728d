"""``chatkitd serve`` in a subprocess, as deployments run it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2

from tests.support.servers import free_port


class ServeProcess:
    """One ``python -m chatkitd serve`` on ``port`` (a free one unless given), started at once;
    ``wait_ready`` blocks until its ``/healthz`` answers, so several can start side by side."""

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        admin_key: str,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"serve-{self.port}.log"
        environment = {
            **os.environ,
            "CHATKITD_DATABASE_URL": database_url,
            "CHATKITD_DATA_DIR": str(data_dir),
            "CHATKITD_API_KEY": admin_key,
            "CHATKITD_LOG_LEVEL": "warning",
            **(env or {}),
        }
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatkitd", "serve", "--port", str(self.port)],
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"chatkitd serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx2.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chatkitd serve did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything (a crash, an OOM kill)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


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
    server = ServeProcess(database_url, data_dir, admin_key, env=env)
    try:
        server.wait_ready()
        yield server.base_url, server.process
    finally:
        server.stop()
