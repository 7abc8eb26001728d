"""REST throughput at the default log level (``info``, with chatkitd's access log) next to ``warning``
(no access log), and next to uvicorn's own per-line access log (what ``info`` used to cost).

    .venv/bin/python bench/request_log.py [--duration 3] [--concurrency 32] [--rounds 2]

Three ``chatkitd serve``-like processes on one fresh SQLite data dir, driven in
turn (alternating, best round counts) with ``GET /v1/chatkit/threads`` by
``bench/rest.py``'s load generator:

- ``info``: ``chatkitd serve`` as shipped (batched access log to stderr);
- ``warning``: ``CHATKITD_LOG_LEVEL=warning`` (no access log);
- ``uvicorn log``: the same app under ``uvicorn.run(log_level="info")``, whose
  access log writes each line through ``logging`` (chatkitd's default before).

Each server's stderr goes to a file, as a service manager would keep it.
Target (issue 15, the CEO's note): ``info`` at >= 90 % of ``warning`` (uvicorn's
log measured 0.52x bare against 0.75x at warning, about 70 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rest import drive, free_port, http_request, wait_for  # noqa: E402  (bench/rest.py's load generator)

KEY = "sk-bench-request-log"
TARGET = 0.90


def serve_with_uvicorn_log(port: int) -> None:
    """The old default: chatkitd's app under uvicorn's per-line access log at ``info``."""
    import uvicorn

    from chatkitd.app import create_app
    from chatkitd.settings import Settings

    settings = Settings(port=port, log_level="warning")  # the app's own access log off
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="info", proxy_headers=True)


def start(kind: str, data_dir: Path, port: int) -> tuple[subprocess.Popen, object]:
    env = {**os.environ, "CHATKITD_DATA_DIR": str(data_dir), "CHATKITD_API_KEY": KEY}
    if kind == "uvicorn log":
        command = [sys.executable, __file__, "--serve-uvicorn-log", str(port)]
    else:
        env["CHATKITD_LOG_LEVEL"] = kind
        command = [sys.executable, "-m", "chatkitd", "serve", "--port", str(port)]
    log = open(data_dir / f"{kind.replace(' ', '_')}.log", "wb")  # noqa: SIM115 - closed by the caller
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    wait_for(f"http://127.0.0.1:{port}/healthz", process)
    return process, log


def seed(port: int) -> None:
    for n in range(3):
        body = json.dumps({"user": f"user_{n}", "workflow": {"id": "demo"}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chatkit/sessions",
            data=body,
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve-uvicorn-log", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_uvicorn_log:
        serve_with_uvicorn_log(args.serve_uvicorn_log)
        return
    kinds = ["info", "warning", "uvicorn log"]
    best = dict.fromkeys(kinds, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        servers = {}
        try:
            for kind in kinds:
                port = free_port()
                servers[kind] = (port, *start(kind, data_dir, port))
            seed(servers["info"][0])
            request = http_request("GET", "/v1/chatkit/threads?limit=20", KEY)
            for _ in range(args.rounds):
                for kind in kinds:
                    result = asyncio.run(drive(servers[kind][0], request, args.duration, args.concurrency))
                    if result.errors:
                        raise SystemExit(f"{kind}: {result.errors} errors")
                    best[kind] = max(best[kind], result.rps)
            lines = sum(1 for _ in (data_dir / "info.log").open())
        finally:
            for _port, process, log in servers.values():
                process.terminate()
                process.wait(15)
                log.close()  # type: ignore[attr-defined]
    print(f"{'log level':14} {'requests/s':>10} {'vs warning':>10}")
    for kind in kinds:
        print(f"{kind:14} {best[kind]:10.0f} {best[kind] / best['warning']:9.2f}x")
    ratio = best["info"] / best["warning"]
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(f"info wrote {lines} log lines; target info >= {TARGET:.2f}x warning: {verdict}")


if __name__ == "__main__":
    main()
