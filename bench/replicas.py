"""Conversation figures through nginx with three replicas, against one replica direct.

On one new PostgreSQL database (migrated once with ``chatkitd migrate``), starts four
``chatkitd serve`` processes: one served directly (the baseline), and three behind
Debian's nginx with the shipped proxy settings (``deploy/nginx/chatkitd-proxy.conf``),
round-robin. Streams ``threads.create`` of the demo workflow over real HTTP, one at a
time and N at once, alternating the two set-ups round by round so that load from
elsewhere lands on both, and prints time to first event, events per second, errors
and the servers' CPU per request (all replicas together), with the ratios.

On a machine of few cores the three replicas share them with PostgreSQL and nginx,
so the figure to read here is what the proxy and the replicas cost per stream, not
how far replicas scale; give each replica its own cores for that.

    .venv/bin/python bench/replicas.py [--concurrency 200] [--rounds 3] [--sequential 40]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg  # the database driver chatkitd runs on PostgreSQL

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from conversation import Run, cpu_seconds, measure, mint_session, summarize  # noqa: E402

from tests.support.processes import ServeProcess  # noqa: E402
from tests.support.proxy import nginx  # noqa: E402

PATH = "/v1/chatkit/conversation"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--sequential", type=int, default=40, help="streams in the one-at-a-time run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the concurrent run")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument(
        "--admin-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL role that may create (and afterwards drop) the bench's database",
    )
    args = parser.parse_args()

    name = f"chatkitd_bench_replicas_{uuid.uuid4().hex[:8]}"
    admin(args.admin_url, f'CREATE DATABASE "{name}"')
    url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
    root = Path(tempfile.mkdtemp(prefix="chatkitd-bench-replicas-"))
    admin_key = "sk-bench-" + secrets.token_hex(8)
    servers: list[ServeProcess] = []
    try:
        migrated = subprocess.run(
            [
                sys.executable,
                "-m",
                "chatkitd",
                "migrate",
                "--database-url",
                url,
                "--data-dir",
                str(root / "m"),
            ],
            capture_output=True,
            text=True,
        )
        if migrated.returncode:
            raise SystemExit(migrated.stderr)
        env = {"CHATKITD_MIGRATE_ON_START": "false", "CHATKITD_MODE": "production"}
        for n in range(args.replicas + 1):
            (root / f"r{n}").mkdir()
            servers.append(ServeProcess(url, root / f"r{n}", admin_key, env=env))
        for server in servers:
            server.wait_ready(180)
        direct, behind = servers[0], servers[1:]
        with nginx([server.port for server in behind]) as proxy:
            proxy_port = int(proxy.rsplit(":", 1)[1])
            keys: list[str | None] = [
                mint_session(direct.port, admin_key, f"bench_{n}") for n in range(args.concurrency)
            ]
            targets = [
                ("1 replica, direct", direct.port, [direct.process.pid]),
                (f"{len(behind)} replicas, nginx", proxy_port, [s.process.pid for s in behind]),
            ]
            compare(targets, keys, 1, 5)  # warm up
            rows = []
            for label, concurrency, rounds in (
                ("1 stream", 1, args.sequential),
                (f"{args.concurrency} concurrent", args.concurrency, args.rounds),
            ):
                runs = compare(targets, keys, concurrency, rounds)
                for server_name, run in runs.items():
                    rows.append(summarize(server_name, label, run))
                    if run.errors:
                        print(f"  {server_name} {label}: first error: {run.errors[0]}", file=sys.stderr)
        print_table(rows)
    finally:
        for server in servers:
            server.stop()
        admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def compare(targets: list[tuple[str, int, list[int]]], keys: list[str | None], concurrency: int, rounds: int):
    """Alternate the set-ups round by round; CPU is summed over each set-up's server processes."""
    runs = {name: Run() for name, _, _ in targets}
    for _ in range(rounds):
        for name, port, pids in targets:
            run = runs[name]
            before = sum(cpu_seconds(pid) for pid in pids)
            asyncio.run(measure(port, PATH, keys, concurrency, run))
            run.server_cpu += sum(cpu_seconds(pid) for pid in pids) - before
            run.requests += concurrency
    return runs


def admin(url: str, sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def print_table(rows: list[dict]) -> None:
    print(
        f"{'set-up':<22} {'load':<16} {'ok':>5} {'err':>4} {'TTFE p50':>10} {'TTFE p95':>10} "
        f"{'ev/s/stream':>12} {'ev/s total':>11} {'CPU ms/req':>11}"
    )
    for row in rows:
        print(
            f"{row['server']:<22} {row['load']:<16} {row['ok']:>5} {row['errors']:>4} "
            f"{row['ttfe_p50_ms']:>8.1f}ms {row['ttfe_p95_ms']:>8.1f}ms {row['events_per_s_stream']:>12.0f} "
            f"{row['events_per_s_total']:>11.0f} {row['cpu_ms_per_request']:>11.2f}"
        )
    print()
    for load in dict.fromkeys(row["load"] for row in rows):
        base, proxied = (row for row in rows if row["load"] == load)
        print(
            f"{load}: through nginx to {proxied['server'].split()[0]} replicas vs one direct: "
            f"TTFE p50 {ratio(proxied['ttfe_p50_ms'], base['ttfe_p50_ms'])}, "
            f"events/s total {ratio(proxied['events_per_s_total'], base['events_per_s_total'])}, "
            f"errors {proxied['errors']} vs {base['errors']}"
        )


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


if __name__ == "__main__":
    main()
