"""REST API throughput on SQLite (or PostgreSQL), next to a bare Starlette endpoint in the same run.

    .venv/bin/python bench/rest.py [--duration 3] [--concurrency 32] [--rounds 2]
    .venv/bin/python bench/rest.py --database-url postgresql+asyncpg://user@host/empty_db

What it does:

1. Seeds a fresh SQLite database (migrated as ``chatkitd serve`` does):
   - a 100-item thread written through ``ThreadStore.save_thread`` and
     ``add_thread_item``, the methods the runtime uses (the representative subset);
   - 10 000 threads and one thread of 100 000 items, bulk-inserted with
     SQLAlchemy Core for speed. Their ``data`` column is produced by the same
     serializers ``ThreadStore`` writes with (``_metadata_json``, ``item_row``,
     and the REST projections ``thread_rest``/``item_rest``),
     and their other columns as ``save_thread``/``add_thread_item`` fill them.
2. Runs ``chatkitd serve`` twice in subprocesses: as configured by default, where
   a repeated read is replayed from memory until the next commit
   (``chatkitd.http.response_cache``), and with that cache off
   (``CHATKITD_RESPONSE_CACHE_BYTES=0``), where every read reaches SQLite. And a
   bare Starlette app in another, all under ``uvicorn.run`` with the same
   options. The bare app answers with precomputed bodies copied from chatkitd's
   real responses, so the bodies are the same size.
3. Drives each with a bounded load generator: ``--concurrency`` keep-alive
   HTTP/1.1 connections on raw asyncio streams (lighter than any HTTP client
   library, so the generator is not what is measured), each sending its next
   request when the previous answer is complete, for ``--duration`` seconds.
   Every scenario runs ``--rounds`` times, alternating, and the best round counts,
   which damps noise from other work on the machine.

Targets (from issue 2): threads.list and list_items at >= 60 % of the bare
endpoint on SQLite, >= 40 % on PostgreSQL (issue 12); list_items deep in the
100 000-item thread at most 1.2x the time of the 100-item thread (measured
with the cache off, where depth could matter). The cache-off ratios to the
bare endpoint and sessions.create per second are reported without a target.
While another process commits (``WRITE_RATES``), and while browsers chat on
the same server (``ChatLoad``: polling only, or also sending messages), the
share of reads replayed is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from chatkitd.settings import Settings

THREADS = 10_000
BIG_ITEMS = 100_000
SMALL_ITEMS = 100
USERS = 100
WRITE_RATES = (10, 100, 500)  # commits per second from another process, during a read scenario
CHAT_WORKERS = 8  # browsers chatting on the same server, during a read scenario
CHAT_RATE = 60  # conversation requests a second they make together
CHAT_INPUT = {
    "content": [{"type": "input_text", "text": "Hello from the REST bench"}],
    "attachments": [],
    "inference_options": {},
}


# -- seeding --------------------------------------------------------------------------


async def seed(settings: Settings) -> dict[str, object]:
    from chatkit.types import (
        AssistantMessageContent,
        AssistantMessageItem,
        InferenceOptions,
        ThreadMetadata,
        UserMessageItem,
        UserMessageTextContent,
    )
    from sqlalchemy import insert

    from chatkitd import ids
    from chatkitd.blobs import FileBlobStore
    from chatkitd.context import RequestContext
    from chatkitd.store import keys, migrate, tables
    from chatkitd.store.db import Database
    from chatkitd.store.projection import thread_rest
    from chatkitd.store.threads import ThreadStore, _metadata_json, item_row

    db = Database.from_settings(settings)
    await migrate.upgrade(db)
    token, _ = await keys.create_key(db, "default", name="bench")
    project_id = await keys.ensure_project(db, "default")
    store = ThreadStore(db, FileBlobStore(settings.blob_dir))
    start = datetime.now(UTC) - timedelta(days=30)

    def message(thread_id: str, n: int, at: datetime):
        if n % 2 == 0:
            return UserMessageItem(
                id=ids.new_id(ids.ITEM),
                thread_id=thread_id,
                created_at=at,
                content=[UserMessageTextContent(text=f"Question number {n}: what about the weather?")],
                inference_options=InferenceOptions(),
            )
        return AssistantMessageItem(
            id=ids.new_id(ids.ITEM),
            thread_id=thread_id,
            created_at=at,
            content=[AssistantMessageContent(text=f"Answer {n}: sunny with a light breeze, 21 degrees.")],
        )

    # 10 000 threads, bulk.
    t = time.monotonic()
    rows: list[dict[str, Any]] = []
    for n in range(THREADS):
        at = start + timedelta(seconds=n)
        meta = ThreadMetadata(id=ids.new_id(ids.THREAD), created_at=at, title=f"Thread {n}")
        rows.append(
            {
                "id": meta.id,
                "project_id": project_id,
                "user": f"user_{n % USERS}",
                "session_id": None,
                "created_at": at.timestamp(),
                "updated_at": at.timestamp(),
                "title": meta.title,
                "status": "active",
                "data": _metadata_json(meta),
                "rest": thread_rest(meta, f"user_{n % USERS}", at.timestamp()),
            }
        )
    big = ThreadMetadata(id=ids.new_id(ids.THREAD), created_at=start, title="Big thread")
    rows.append(
        {
            **rows[-1],
            "id": big.id,
            "title": big.title,
            "data": _metadata_json(big),
            "rest": thread_rest(big, rows[-1]["user"], rows[-1]["created_at"]),
        }
    )
    async with db.write() as conn:
        await conn.execute(insert(tables.threads), rows)
    print(f"seeded {len(rows)} threads in {time.monotonic() - t:.1f}s", file=sys.stderr)

    # One thread of 100 000 items, bulk, in chunks.
    t = time.monotonic()
    big_ids = []
    for chunk_start in range(0, BIG_ITEMS, 5000):
        chunk = []
        for n in range(chunk_start, chunk_start + 5000):
            item = message(big.id, n, start + timedelta(milliseconds=n))
            big_ids.append(item.id)
            chunk.append(item_row(big.id, item))
        async with db.write() as conn:
            await conn.execute(insert(tables.items), chunk)
    print(f"seeded {BIG_ITEMS} items in {time.monotonic() - t:.1f}s", file=sys.stderr)

    # The 100-item thread, through the Store methods the runtime uses.
    t = time.monotonic()
    context = RequestContext(project_id=project_id, user="user_small")
    small = ThreadMetadata(id=store.generate_thread_id(context), created_at=datetime.now(), title="Small")
    await store.save_thread(small, context)
    small_ids = []
    for n in range(SMALL_ITEMS):
        item = message(small.id, n, datetime.now())
        small_ids.append(item.id)
        await store.add_thread_item(small.id, item, context)
    print(f"seeded {SMALL_ITEMS} items via ThreadStore in {time.monotonic() - t:.1f}s", file=sys.stderr)
    await db.dispose()
    return {
        "token": token,
        "big": big.id,
        "big_cursor": big_ids[BIG_ITEMS - 1000],  # deep: 99 000 items in
        "small": small.id,
        "small_cursor": small_ids[40],
    }


# -- servers --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early: {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server never answered: {url}")


def serve_bare(port: int, bodies_file: str) -> None:
    """The baseline: Starlette returning precomputed bodies, under uvicorn.run like chatkitd."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    bodies = {name: body.encode() for name, body in json.loads(Path(bodies_file).read_text()).items()}

    async def bare(request):
        return Response(bodies[request.path_params["name"]], media_type="application/json")

    async def healthz(request):
        return Response(b'{"status":"ok"}', media_type="application/json")

    app = Starlette(routes=[Route("/bare/{name}", bare), Route("/healthz", healthz)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=True)


# -- load -----------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def http_request(method: str, path: str, token: str | None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def drive(port: int, request: bytes, duration: float, concurrency: int) -> Result:
    done = errors = 0
    end = time.monotonic() + duration

    async def worker() -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < end:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                if head[9:12] == b"200":
                    done += 1
                else:
                    errors += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(done, errors, time.monotonic() - started)


async def write_steadily(settings: Settings, per_second: float, duration: float) -> int:
    """Add messages to a thread of its own, ``per_second``, as a live chat would.

    Every add is a commit from another process, so each one empties the
    server's response cache.
    """
    from chatkit.types import InferenceOptions, ThreadMetadata, UserMessageItem, UserMessageTextContent

    from chatkitd.blobs import FileBlobStore
    from chatkitd.context import RequestContext
    from chatkitd.store.db import Database
    from chatkitd.store.keys import ensure_project
    from chatkitd.store.threads import ThreadStore

    db = Database.from_settings(settings)
    store = ThreadStore(db, FileBlobStore(settings.blob_dir))
    context = RequestContext(project_id=await ensure_project(db, "default"), user="user_writer")
    thread = ThreadMetadata(id=store.generate_thread_id(context), created_at=datetime.now(), title="Live")
    await store.save_thread(thread, context)
    written = 0
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < duration:
            await asyncio.sleep(max(0.0, written / per_second - elapsed))
            item = UserMessageItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=datetime.now(),
                content=[UserMessageTextContent(text=f"live message {written}")],
                inference_options=InferenceOptions(),
            )
            await store.add_thread_item(thread.id, item, context)
            written += 1
    finally:
        await db.dispose()
    return written


async def drive_while_writing(
    port: int, request: bytes, duration: float, concurrency: int, settings: Settings, per_second: float
) -> Result:
    result, written = await asyncio.gather(
        drive(port, request, duration, concurrency), write_steadily(settings, per_second, duration)
    )
    if written < per_second * duration * 0.9:
        # A loaded machine (or PostgreSQL's commit flushes) can hold the writer back: say so, carry on.
        print(
            f"the writer fell behind: {written} writes in {duration:.0f}s, not {per_second}/s",
            file=sys.stderr,
        )
    return result


@dataclass(frozen=True)
class ChatLoad:
    """Browsers chatting on the same server while REST reads run: ``CHAT_WORKERS`` of them, each
    on its own session and thread, together making ``CHAT_RATE`` conversation requests a second
    (when the server keeps up: the rate reached is printed).

    ``reading``: a chat UI polling (``threads.list``, ``items.list``), which changes no thread but
    is admitted (counted against the session's rate limit) on every request. ``writing``: each
    also sends a message and reads the streamed answer (``threads.add_user_message``).
    """

    kind: Literal["reading", "writing"]
    secrets: tuple[str, ...]
    threads: tuple[str, ...]


def conversation_request(port: int, secret: str, kind: str, params: dict[str, Any]) -> bytes:
    body = json.dumps({"type": kind, "params": params}).encode()
    return (
        f"POST /v1/chatkit/conversation HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {secret}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


async def converse(port: int, request: bytes) -> bytes:
    """One conversation request on its own connection; the whole answer (a stream included)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        answer = await reader.read()
    finally:
        writer.close()
    if answer[9:12] != b"200" or b'"type":"error"' in answer:
        raise SystemExit(f"a chat request failed: {answer[:300]!r}")
    return answer


async def chat_steadily(port: int, load: ChatLoad, duration: float) -> int:
    """Run ``load`` for ``duration`` seconds; the number of conversation requests it made."""
    made = 0
    started = time.monotonic()
    per_browser = CHAT_RATE / len(load.secrets)

    async def browser(secret: str, thread_id: str) -> None:
        nonlocal made
        steps: list[tuple[str, dict[str, Any]]] = [
            ("threads.list", {"limit": 20}),
            ("items.list", {"thread_id": thread_id, "limit": 20}),
        ]
        if load.kind == "writing":
            steps.append(("threads.add_user_message", {"thread_id": thread_id, "input": CHAT_INPUT}))
        sent = 0
        while (elapsed := time.monotonic() - started) < duration:
            await asyncio.sleep(max(0.0, sent / per_browser - elapsed))
            kind, params = steps[sent % len(steps)]
            await converse(port, conversation_request(port, secret, kind, params))
            sent += 1
            made += 1

    await asyncio.gather(*(browser(s, t) for s, t in zip(load.secrets, load.threads, strict=True)))
    return made


async def drive_while_chatting(
    port: int, request: bytes, duration: float, concurrency: int, load: ChatLoad
) -> Result:
    result, made = await asyncio.gather(
        drive(port, request, duration, concurrency), chat_steadily(port, load, duration)
    )
    print(f"  chat load ({load.kind}): {made / duration:.0f} conversation requests/s", file=sys.stderr)
    return result


def start_chats(port: int, token: str, workers: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Sessions for the chat load (minted over REST) and a thread for each (over the conversation)."""
    secrets, threads = [], []
    for n in range(workers):
        session = json.dumps(
            {
                "user": f"user_chat_{n}",
                "workflow": {"id": "demo"},
                "rate_limits": {"max_requests_per_1_minute": 1_000_000},
            }
        ).encode()
        answer = urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/chatkit/sessions",
                data=session,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        )
        secret = json.load(answer)["client_secret"]
        stream = asyncio.run(
            converse(port, conversation_request(port, secret, "threads.create", {"input": CHAT_INPUT}))
        )
        created = stream.split(b'"type":"thread.created","thread":{"id":"', 1)[1].split(b'"', 1)[0]
        secrets.append(secret)
        threads.append(created.decode())
    return tuple(secrets), tuple(threads)


def measure(port, request, duration, concurrency, settings=None, background=None) -> Result:  # noqa: ANN001
    asyncio.run(drive(port, request, 0.5, concurrency))  # warm up
    if isinstance(background, ChatLoad):
        return asyncio.run(drive_while_chatting(port, request, duration, concurrency, background))
    if background:
        return asyncio.run(drive_while_writing(port, request, duration, concurrency, settings, background))
    return asyncio.run(drive(port, request, duration, concurrency))


def cache_counts(port: int) -> tuple[float, float]:
    """The server's response cache hits and misses so far, from ``/metrics``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as response:
        text = response.read().decode()
    counts = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("chatkitd_response_cache_hits_total", "chatkitd_response_cache_misses_total"):
            counts[name] = float(value)
    return counts["chatkitd_response_cache_hits_total"], counts["chatkitd_response_cache_misses_total"]


# -- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data-dir", help="seed here once and reuse it on later runs")
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database to run on instead of SQLite (with --data-dir, seeded once)",
    )
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    parser.add_argument("--bare", nargs=2, metavar=("PORT", "BODIES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        serve_bare(int(args.bare[0]), args.bare[1])
        return

    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass

    with tempfile.TemporaryDirectory(prefix="chatkitd-bench-") as tmp:
        from chatkitd.settings import Settings

        data_dir = Path(args.data_dir or tmp)
        settings = Settings(data_dir=data_dir, database_url=args.database_url)
        # --data-dir keeps the seeded database between runs, to iterate on the server faster.
        seed_file = data_dir / "seed.json"
        if seed_file.exists():
            seeded = json.loads(seed_file.read_text())
        else:
            seeded = asyncio.run(seed(settings))
            seed_file.write_text(json.dumps(seeded))
        token = str(seeded["token"])
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")}
        env.update(CHATKITD_DATA_DIR=str(data_dir), CHATKITD_LOG_LEVEL="warning")
        if args.database_url:
            env.update(CHATKITD_DATABASE_URL=args.database_url)
        ck_port, off_port, bare_port = free_port(), free_port(), free_port()
        servers = []
        try:
            for port, extra in ((ck_port, {}), (off_port, {"CHATKITD_RESPONSE_CACHE_BYTES": "0"})):
                server = subprocess.Popen(
                    [str(Path(sys.executable).with_name("chatkitd")), "serve", "--port", str(port)],
                    env={**env, **extra},
                )
                servers.append(server)
                wait_for(f"http://127.0.0.1:{port}/healthz", server)
            paths = {
                "threads.list": "/v1/chatkit/threads?limit=20",
                "list_items": f"/v1/chatkit/threads/{seeded['small']}/items?limit=20",
            }
            off_paths = {
                **{f"{name}, cache off": path for name, path in paths.items()},
                "list_items 100-item, after #40": (
                    f"/v1/chatkit/threads/{seeded['small']}/items?limit=20&order=asc"
                    f"&after={seeded['small_cursor']}"
                ),
                "list_items 100k-item, after #99000": (
                    f"/v1/chatkit/threads/{seeded['big']}/items?limit=20&order=asc"
                    f"&after={seeded['big_cursor']}"
                ),
                "list_items 100k-item, newest": f"/v1/chatkit/threads/{seeded['big']}/items?limit=20",
            }
            bodies = {}
            for name in ("threads.list", "list_items"):
                request = urllib.request.Request(
                    f"http://127.0.0.1:{ck_port}{paths[name]}",
                    headers={"Authorization": f"Bearer {token}"},
                )
                with urllib.request.urlopen(request) as response:
                    bodies[name] = response.read().decode()
            bodies_file = data_dir / "bodies.json"
            bodies_file.write_text(json.dumps(bodies))
            bare = subprocess.Popen(
                [sys.executable, __file__, "--bare", str(bare_port), str(bodies_file)], env=env
            )
            servers.append(bare)
            wait_for(f"http://127.0.0.1:{bare_port}/healthz", bare)

            scenarios: dict[str, tuple] = {
                "bare threads.list body": (bare_port, http_request("GET", "/bare/threads.list", None)),
                "bare list_items body": (bare_port, http_request("GET", "/bare/list_items", None)),
                **{name: (ck_port, http_request("GET", path, token)) for name, path in paths.items()},
                **{name: (off_port, http_request("GET", path, token)) for name, path in off_paths.items()},
                **{
                    f"list_items, {rate} writes/s elsewhere": (
                        ck_port,
                        http_request("GET", paths["list_items"], token),
                        rate,
                    )
                    for rate in WRITE_RATES
                },
                **{
                    f"list_items, chats {kind} alongside": (
                        ck_port,
                        http_request("GET", paths["list_items"], token),
                        ChatLoad(kind, *start_chats(ck_port, token, CHAT_WORKERS)),
                    )
                    for kind in ("reading", "writing")
                },
                "sessions.create": (
                    ck_port,
                    http_request(
                        "POST",
                        "/v1/chatkit/sessions",
                        token,
                        json.dumps({"user": "bench", "workflow": {"id": "demo"}}).encode(),
                    ),
                ),
            }
            if args.only:
                scenarios = {k: v for k, v in scenarios.items() if args.only in k}
            best: dict[str, Result] = {}
            replayed: dict[str, float] = {}
            for _ in range(args.rounds):
                for name, (port, request, *writes) in scenarios.items():
                    hits, misses = cache_counts(port) if writes else (0, 0)
                    result = measure(port, request, args.duration, args.concurrency, settings, *writes)
                    if result.errors:
                        raise SystemExit(f"{name}: {result.errors} non-200 answers")
                    if name not in best or result.rps > best[name].rps:
                        best[name] = result
                        if writes:
                            # Includes the warm-up's requests, which are few and all but one replayed.
                            more_hits, more_misses = cache_counts(port)
                            looked_up = more_hits - hits + more_misses - misses
                            # PostgreSQL has no cache: nothing is looked up, nothing replayed.
                            replayed[name] = (more_hits - hits) / looked_up if looked_up else 0.0
        finally:
            for server in servers:
                server.terminate()
                server.wait(30)

        if args.only:
            for name, result in best.items():
                share = f"  {replayed[name]:.1%} replayed" if name in replayed else ""
                print(f"{name:<38} {result.rps:>9.0f}{share}")
            return
        cpu = asyncio.run(cpu_per_request(settings, token, paths, off_paths, bodies))
    report(best, replayed, bodies, cpu, args)


async def cpu_per_request(
    settings: Settings,
    token: str,
    paths: dict[str, str],
    off_paths: dict[str, str],
    bodies: dict[str, str],
    n: int = 100,
    rounds: int = 5,
) -> dict[str, float]:
    """Microseconds of this process's CPU per request, calling each ASGI app directly.

    No network and no load generator: a figure that other work on the machine
    disturbs much less than requests per second, and that shows where the time goes.
    """
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from chatkitd.app import create_app

    async def bare_endpoint(request):
        return Response(bodies[request.path_params["name"]].encode(), media_type="application/json")

    bare = Starlette(routes=[Route("/bare/{name}", bare_endpoint)])
    app = create_app(settings)
    off = create_app(settings.model_copy(update={"response_cache_bytes": 0}))
    await app.state.platform.start()
    await off.state.platform.start()

    async def call(target, url: str) -> None:
        path, _, query = url.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        status = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await target(scope, receive, send)
        if status != [200]:
            raise SystemExit(f"{url}: {status}")

    targets = {f"bare {name} body": (bare, f"/bare/{name}") for name in bodies}
    targets |= {name: (app, url) for name, url in paths.items()}
    targets |= {name: (off, url) for name, url in off_paths.items()}
    result: dict[str, float] = {}
    try:
        for target, url in targets.values():
            for _ in range(20):
                await call(target, url)
        # Alternate the targets, several times, and keep each one's cheapest batch:
        # other processes only ever add to a batch's time.
        for _ in range(rounds):
            for name, (target, url) in targets.items():
                started = time.process_time()
                for _ in range(n):
                    await call(target, url)
                micros = (time.process_time() - started) / n * 1e6
                result[name] = min(result.get(name, micros), micros)
    finally:
        await app.state.platform.stop()
        await off.state.platform.stop()
    return result


def report(
    best: dict[str, Result],
    replayed: dict[str, float],
    bodies: dict[str, str],
    cpu: dict[str, float],
    args: argparse.Namespace,
) -> None:
    rps = {name: result.rps for name, result in best.items()}
    print()
    print(
        f"chatkitd REST bench on {'PostgreSQL' if args.database_url else 'SQLite'}: "
        f"{THREADS} threads, one of {BIG_ITEMS} items; "
        f"{args.concurrency} connections, best of {args.rounds} x {args.duration:.0f}s"
    )
    print(
        f"body sizes: threads.list {len(bodies['threads.list'])} B, list_items {len(bodies['list_items'])} B"
    )
    print()
    print(f"{'scenario':<38} {'req/s':>9}  replayed")
    for name, value in rps.items():
        share = f"  {replayed[name]:.1%}" if name in replayed else ""
        print(f"{name:<38} {value:>9.0f}{share}")
    floor = 0.40 if args.database_url else 0.60
    at_least, at_most = (f">= {floor:.2f}", lambda r: r >= floor), ("<= 1.20", lambda r: r <= 1.20)
    checks = [
        ("threads.list vs bare", rps["threads.list"] / rps["bare threads.list body"], *at_least),
        ("list_items vs bare", rps["list_items"] / rps["bare list_items body"], *at_least),
        (
            "deep 100k page time / 100-item page",
            rps["list_items 100-item, after #40"] / rps["list_items 100k-item, after #99000"],
            *at_most,
        ),
        (
            "newest 100k page time / 100-item page",
            rps["list_items, cache off"] / rps["list_items 100k-item, newest"],
            *at_most,
        ),
    ]
    # Every read reaching the database, as under a steady stream of writes: no target.
    cache_off = [
        ("threads.list, cache off, vs bare", rps["threads.list, cache off"] / rps["bare threads.list body"]),
        ("list_items, cache off, vs bare", rps["list_items, cache off"] / rps["bare list_items body"]),
    ]
    print()
    print(f"{'check':<38} {'ratio':>7} {'target':>8}  result")
    for name, ratio, target, ok in checks:
        verdict = "PASS" if ok(ratio) else "FAIL"
        print(f"{name:<38} {ratio:>7.2f} {target:>8}  {verdict}")
    for name, ratio in cache_off:
        print(f"{name:<38} {ratio:>7.2f} {'(none)':>8}")
    print(f"{'sessions.create':<38} {rps['sessions.create']:>7.0f}/s {'(none)':>8}")
    print()
    print("CPU per request inside the ASGI app (no network, no load generator):")
    for name, micros in cpu.items():
        print(f"{name:<38} {micros:>7.0f} us")
    deep = cpu["list_items 100k-item, after #99000"] / cpu["list_items 100-item, after #40"]
    verdict = "PASS" if deep <= 1.2 else "FAIL"
    print(f"{'deep 100k page CPU / 100-item page':<38} {deep:>7.2f} {'<= 1.20':>8}  {verdict}")


if __name__ == "__main__":
    main()
