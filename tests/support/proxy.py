"""nginx, Debian's package, as the reverse proxy in front of chatkitd replicas.

It serves the deployment's own proxy settings (``deploy/nginx/chatkitd-proxy.conf``,
included as it ships) with round-robin over the replicas the test started, and adds
one header for the test: ``X-Chatkitd-Upstream``, the replica (or replicas, comma
separated, when one refused the connection) that answered. ``.ci/run`` installs nginx;
without it the test skips, saying why, except in CI, where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import IN_CI, free_port

SNIPPET = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "chatkitd-proxy.conf"
UPSTREAM_HEADER = "X-Chatkitd-Upstream"

CONFIG = """\
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
{user}
events {{ worker_connections 1024; }}

http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;

    upstream chatkitd {{
{servers}
        keepalive 16;
    }}

    server {{
        listen 127.0.0.1:{port};
        add_header {header} $upstream_addr always;
        include {snippet};
    }}
}}
"""


def nginx_binary() -> str:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        if IN_CI:
            pytest.fail("nginx is required in CI (.ci/run installs Debian's package)")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    return binary


@contextlib.contextmanager
def nginx(upstream_ports: list[int]) -> Iterator[str]:
    """Run nginx round-robin over ``upstream_ports`` on loopback; yields its base URL."""
    binary = nginx_binary()
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="chatkitd-nginx-"))
    folder.chmod(0o777)  # run as root, nginx's worker is `nobody` and writes its temp files here
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;" for p in upstream_ports)
    config = folder / "nginx.conf"
    config.write_text(
        CONFIG.format(
            folder=folder,
            port=port,
            servers=servers,
            header=UPSTREAM_HEADER,
            snippet=SNIPPET,
            user="user nobody nogroup;" if os.geteuid() == 0 else "",
        )
    )
    log = open(folder / "nginx.out", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                log.flush()
                output = "".join(
                    p.read_text() for p in (folder / "nginx.out", folder / "error.log") if p.exists()
                )
                raise RuntimeError(f"nginx exited: {output[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def served_by(upstream: str) -> int:
    """The port of the replica that answered, from ``X-Chatkitd-Upstream`` (the last
    address nginx tried: the earlier ones refused the connection)."""
    return int(upstream.split(",")[-1].strip().rsplit(":", 1)[1])
