"""A PgBouncer of the test's own, in transaction pooling mode, in front of the local PostgreSQL.

Debian packages it (``apt-get install pgbouncer``; ``.ci/run`` does). It runs
on a free port with few server connections, so chatkitd's client connections
must share them: consecutive transactions of one client land on different
server connections, as in production behind a busy pooler. Without the binary
the test skips, saying why, except in CI, where that is a failure.
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

CONFIG = """\
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {server_connections}
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
"""


@contextlib.contextmanager
def pgbouncer(server_connections: int = 2) -> Iterator[int]:
    """Run PgBouncer; yields its port."""
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if binary is None:
        if IN_CI:
            pytest.fail("pgbouncer is required in CI (.ci/run installs Debian's package)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="chatkitd-pgbouncer-"))
    folder.chmod(0o755)  # PgBouncer refuses to run as root: it reads these as `postgres`
    (folder / "users.txt").write_text('"postgres" ""\n')
    config = folder / "pgbouncer.ini"
    config.write_text(CONFIG.format(port=port, folder=folder, server_connections=server_connections))
    for path in folder.iterdir():
        path.chmod(0o644)
    command = [binary, str(config)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    log = open(folder / "pgbouncer.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {(folder / 'pgbouncer.log').read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("pgbouncer did not start")
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def admin_console(port: int, command: str) -> list[dict[str, str]]:
    """Rows of a PgBouncer admin command (``SHOW STATS``...), through psql."""
    out = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            "pgbouncer",
            "-A",
            "-F",
            "\t",
            "-c",
            command,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout.splitlines()
    header = out[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in out[1:] if "\t" in line]
