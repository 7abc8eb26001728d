"""The test MCP server (``tests.support.mcp_server``) as a subprocess on loopback, stopped and restarted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.servers import free_port

ROOT = Path(__file__).parents[2]
PATHS = {"streamable-http": "/mcp", "sse": "/sse"}


class McpServerProcess:
    """One MCP server process; ``stop()`` kills it, ``start()`` brings it back on the same port."""

    def __init__(self, transport: str = "streamable-http", argv: list[str] | None = None, **env: str) -> None:
        self.transport = transport
        # Another server's command line (it must take --port); by default the test server.
        self.argv = argv or [sys.executable, "-m", "tests.support.mcp_server", "--transport", transport]
        self.port = free_port()
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATHS[self.transport]}"

    def start(self) -> McpServerProcess:
        self.process = subprocess.Popen(
            [*self.argv, "--port", str(self.port)],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("the test MCP server exited")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the test MCP server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> McpServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
