"""Conversation throughput: chatkitd's demo workflow against a bare openai-chatkit server.

Measures, over real HTTP, time to first event (TTFE) and events per second for
one stream at a time and for 200 concurrent streams (``threads.create`` with
a short message), against two servers started in subprocesses, in one run:

- ``chatkitd``: ``python -m chatkitd serve`` (SQLite in a temporary data dir,
  or ``--database-url``), one session per concurrent stream, minted over REST;
- ``reference``: this file run with ``--reference PORT``: a minimal
  ``ChatKitServer`` subclass on an in-memory store, served by Starlette and
  uvicorn the way chatkit's quickstart serves it, streaming the same reply.

The servers take turns, round by round, so that noise from elsewhere on the
machine lands on both. Prints a table and the overhead ratios. Targets: zero errors at 200
concurrent streams; events per second at least 1.0x the reference on SQLite and
0.8x on PostgreSQL; time to first event at most 1.0x. It also prints the CPU the
server process spends per request (from ``/proc``), and with ``--profile FILE``
samples chatkitd with py-spy during the concurrent rounds
(``pip install -e '.[bench]'``; the file holds py-spy's raw stacks) and prints
where its time went.

    .venv/bin/python bench/conversation.py [--concurrency 200] [--rounds 3] [--sequential 40]
        [--database-url postgresql+asyncpg://user@host/empty_db] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MESSAGE = "Hello from the bench, how are you today?"


# -- the reference server: only openai-chatkit, as its quickstart describes -------------------


def serve_reference(port: int) -> None:
    from datetime import datetime

    import uvicorn
    from chatkit.server import ChatKitServer, StreamingResult
    from chatkit.store import NotFoundError, Store
    from chatkit.types import (
        Annotation,
        AssistantMessageContent,
        AssistantMessageContentPartAdded,
        AssistantMessageContentPartAnnotationAdded,
        AssistantMessageContentPartDone,
        AssistantMessageContentPartTextDelta,
        AssistantMessageItem,
        Page,
        ThreadItemAddedEvent,
        ThreadItemDoneEvent,
        ThreadItemUpdatedEvent,
        URLSource,
    )
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    class MemoryStore(Store[dict]):
        def __init__(self) -> None:
            self.threads: dict = {}
            self.items: dict = {}
            self.attachments: dict = {}

        async def load_thread(self, thread_id, context):
            if thread_id not in self.threads:
                raise NotFoundError(thread_id)
            return self.threads[thread_id]

        async def save_thread(self, thread, context):
            self.threads[thread.id] = thread

        async def load_thread_items(self, thread_id, after, limit, order, context):
            items = list(self.items.get(thread_id, {}).values())
            items = items if order == "asc" else items[::-1]
            if after:
                items = items[[i.id for i in items].index(after) + 1 :]
            return Page(data=items[:limit], has_more=len(items) > limit)

        async def save_attachment(self, attachment, context):
            self.attachments[attachment.id] = attachment

        async def load_attachment(self, attachment_id, context):
            return self.attachments[attachment_id]

        async def delete_attachment(self, attachment_id, context):
            self.attachments.pop(attachment_id, None)

        async def load_threads(self, limit, after, order, context):
            return Page(data=list(self.threads.values())[:limit])

        async def add_thread_item(self, thread_id, item, context):
            self.items.setdefault(thread_id, {})[item.id] = item

        async def save_item(self, thread_id, item, context):
            self.items.setdefault(thread_id, {})[item.id] = item

        async def load_item(self, thread_id, item_id, context):
            return self.items[thread_id][item_id]

        async def delete_thread(self, thread_id, context):
            self.threads.pop(thread_id, None)
            self.items.pop(thread_id, None)

        async def delete_thread_item(self, thread_id, item_id, context):
            self.items.get(thread_id, {}).pop(item_id, None)

    class EchoServer(ChatKitServer[dict]):
        async def respond(self, thread, input_user_message, context):
            text = "Echo: " + " ".join(p.text for p in input_user_message.content)
            item_id = self.store.generate_item_id("message", thread, context)
            item = AssistantMessageItem(
                id=item_id, thread_id=thread.id, created_at=datetime.now(), content=[]
            )
            yield ThreadItemAddedEvent(item=item)
            empty = AssistantMessageContent(text="")
            yield ThreadItemUpdatedEvent(
                item_id=item_id, update=AssistantMessageContentPartAdded(content_index=0, content=empty)
            )
            words = text.split(" ")
            for n, word in enumerate(words):
                delta = word if n == len(words) - 1 else word + " "
                yield ThreadItemUpdatedEvent(
                    item_id=item_id, update=AssistantMessageContentPartTextDelta(content_index=0, delta=delta)
                )
            note = Annotation(
                source=URLSource(title="ChatKit", url="https://openai.github.io/chatkit-python/")
            )
            yield ThreadItemUpdatedEvent(
                item_id=item_id,
                update=AssistantMessageContentPartAnnotationAdded(
                    content_index=0, annotation_index=0, annotation=note
                ),
            )
            content = AssistantMessageContent(text=text, annotations=[note])
            yield ThreadItemUpdatedEvent(
                item_id=item_id, update=AssistantMessageContentPartDone(content_index=0, content=content)
            )
            yield ThreadItemDoneEvent(item=item.model_copy(update={"content": [content]}))
            if thread.title is None:
                thread.title = text[6:46]

    server = EchoServer(MemoryStore())

    async def chatkit_endpoint(request: Request) -> Response:
        result = await server.process(await request.body(), {})
        if isinstance(result, StreamingResult):
            return StreamingResponse(result, media_type="text/event-stream")
        return Response(content=result.json, media_type="application/json")

    app = Starlette(routes=[Route("/chatkit", chatkit_endpoint, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# -- the load: raw HTTP/1.1 over asyncio streams, light enough not to be the bottleneck -----------


@dataclass
class Run:
    ttfe: list[float] = field(default_factory=list)
    events: int = 0
    stream_rates: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0  # seconds of CPU the server process spent on the measured requests
    requests: int = 0


async def one_stream(port: int, path: str, secret: str | None, run: Run) -> None:
    body = json.dumps(
        {
            "type": "threads.create",
            "params": {
                "input": {
                    "content": [{"type": "input_text", "text": MESSAGE}],
                    "attachments": [],
                    "inference_options": {},
                }
            },
        }
    ).encode()
    auth = f"Authorization: Bearer {secret}\r\n" if secret else ""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    start = time.perf_counter()
    first = None
    count = 0
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"200":
            rest = await reader.read()
            raise RuntimeError(f"HTTP {status.decode()}: {(head + rest)[-300:]!r}")
        while chunk := await reader.read(65536):
            frames = chunk.count(b"data: ")
            if frames and first is None:
                first = time.perf_counter() - start
            count += frames
            if b'"type":"error"' in chunk:
                raise RuntimeError("error event in stream")
        writer.close()
    except Exception as error:  # noqa: BLE001 - counted, not raised
        run.errors.append(str(error)[:200])
        return
    duration = time.perf_counter() - start
    if first is None:
        run.errors.append("no events")
        return
    run.ttfe.append(first)
    run.events += count
    run.stream_rates.append(count / duration)


async def measure(port: int, path: str, keys: list[str | None], concurrency: int, run: Run) -> None:
    """One round: a single stream, or ``concurrency`` streams started together, one per user."""
    start = time.perf_counter()
    await asyncio.gather(*(one_stream(port, path, keys[n % len(keys)], run) for n in range(concurrency)))
    run.wall += time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (all its threads), from ``/proc``."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compare(targets: list[tuple], concurrency: int, rounds: int) -> dict[str, Run]:
    """Alternate the servers round by round, so load from elsewhere hits both alike."""
    runs = {name: Run() for name, *_ in targets}
    for _ in range(rounds):
        for name, port, path, key, pid in targets:
            run = runs[name]
            cpu = cpu_seconds(pid)
            asyncio.run(measure(port, path, key, concurrency, run))
            run.server_cpu += cpu_seconds(pid) - cpu
            run.requests += concurrency
    return runs


# -- orchestration ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:  # noqa: BLE001 - not up yet (a 405 on GET also means up)
            if _answers(url):
                return
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _answers(url: str) -> bool:
    import urllib.error

    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError:
        return True
    except Exception:  # noqa: BLE001
        return False
    return True


def mint_session(port: int, admin_key: str, user: str) -> str:
    body = json.dumps(
        {
            "user": user,
            "workflow": {"id": "demo"},
            "rate_limits": {"max_requests_per_1_minute": 1_000_000},
            "expires_after": {"anchor": "created_at", "seconds": 600},
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chatkit/sessions",
        data=body,
        headers={"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["client_secret"]


def summarize(name: str, label: str, run: Run) -> dict:
    ttfe = sorted(run.ttfe) or [float("nan")]
    return {
        "server": name,
        "load": label,
        "ok": len(run.ttfe),
        "errors": len(run.errors),
        "ttfe_p50_ms": statistics.median(ttfe) * 1000,
        "ttfe_p95_ms": ttfe[min(len(ttfe) - 1, int(len(ttfe) * 0.95))] * 1000,
        "events_per_s_stream": statistics.median(run.stream_rates) if run.stream_rates else 0.0,
        "events_per_s_total": run.events / run.wall if run.wall else 0.0,
        "cpu_ms_per_request": run.server_cpu / run.requests * 1000 if run.requests else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reference", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--sequential", type=int, default=40, help="streams in the one-at-a-time run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the concurrent run")
    parser.add_argument("--database-url", default=None, help="chatkitd's database (default: SQLite)")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="sample chatkitd with py-spy (the `bench` extra) under concurrent load, into this file",
    )
    args = parser.parse_args()
    if args.reference:
        serve_reference(args.reference)
        return

    admin_key = "sk-bench-" + secrets.token_hex(8)
    data_dir = tempfile.mkdtemp(prefix="chatkitd-bench-")
    ours, ref = free_port(), free_port()
    env = {
        **os.environ,
        "CHATKITD_DATA_DIR": data_dir,
        "CHATKITD_API_KEY": admin_key,
        "CHATKITD_LOG_LEVEL": "warning",
    }
    if args.database_url:
        env["CHATKITD_DATABASE_URL"] = args.database_url
    processes = [
        subprocess.Popen([sys.executable, "-m", "chatkitd", "serve", "--port", str(ours)], env=env),
        subprocess.Popen([sys.executable, __file__, "--reference", str(ref)]),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{ours}/healthz", processes[0])
        wait_until_up(f"http://127.0.0.1:{ref}/chatkit", processes[1])
        # One session per concurrent stream, as 200 browsers would each hold their own.
        secrets_ = [mint_session(ours, admin_key, f"bench_{n}") for n in range(args.concurrency)]
        targets = [
            ("chatkitd", ours, "/v1/chatkit/conversation", secrets_, processes[0].pid),
            ("reference", ref, "/chatkit", [None], processes[1].pid),
        ]
        rows = []
        compare(targets, 1, 5)  # warm up both
        for label, concurrency, rounds in (
            ("1 stream", 1, args.sequential),
            (f"{args.concurrency} concurrent", args.concurrency, args.rounds),
        ):
            profile = args.profile if concurrency > 1 else None
            with profiled(processes[0].pid, profile):
                runs = compare(targets, concurrency, rounds)
            for name, run in runs.items():
                rows.append(summarize(name, label, run))
                if run.errors:
                    print(f"  {name} {label}: first error: {run.errors[0]}", file=sys.stderr)
        print_table(rows, postgres=bool(args.database_url))
    finally:
        for process in processes:
            process.terminate()
            process.wait(15)
    if args.profile:
        print_profile(args.profile)


@contextlib.contextmanager
def profiled(pid: int, path: str | None) -> Iterator[None]:
    """Sample ``pid`` with py-spy (the ``bench`` extra) while the block runs, into ``path``."""
    if path is None:
        yield
        return
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--output", path]
    # --nonblocking: the server is never paused to be sampled.
    recorder = subprocess.Popen([*command, "--rate", "250", "--nonblocking"], stdout=subprocess.DEVNULL)
    time.sleep(1)  # py-spy attaches
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its file as it stops
        recorder.wait(60)


def print_profile(path: str, top: int = 25) -> None:
    """Where chatkitd's process spent its time: by function itself, and with what it calls."""
    own: Counter[str] = Counter()
    within: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.split(" (", 1)[0] + " " + _where(frame) for frame in stack.split(";")[1:]]
        samples = int(count)
        total += samples
        if frames:
            own[frames[-1]] += samples
        for frame in set(frames):
            within[frame] += samples
    for title, counts in (("itself", own), ("with what it calls", within)):
        print(f"\nchatkitd's CPU under load, by function {title} ({total} samples, idle excluded):")
        for frame, samples in counts.most_common(top):
            print(f"{samples / total:>6.1%}  {frame}")


def _where(frame: str) -> str:
    """``module.py`` of a py-spy frame ``name (path/to/module.py:line)``, shortened to the package."""
    location = frame.split(" (", 1)[1].rstrip(")") if " (" in frame else ""
    path = location.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/chatkitd/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            return ("chatkitd/" if marker == "/chatkitd/" else "") + path
    return path


def print_table(rows: list[dict], postgres: bool) -> None:
    header = (
        f"{'server':<10} {'load':<15} {'ok':>4} {'err':>4} {'TTFE p50':>10} {'TTFE p95':>10} "
        f"{'ev/s/stream':>12} {'ev/s total':>11} {'CPU/req':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['server']:<10} {r['load']:<15} {r['ok']:>4} {r['errors']:>4} "
            f"{r['ttfe_p50_ms']:>8.1f}ms {r['ttfe_p95_ms']:>8.1f}ms "
            f"{r['events_per_s_stream']:>12.0f} {r['events_per_s_total']:>11.0f} "
            f"{r['cpu_ms_per_request']:>7.2f}ms"
        )
    print()
    # Issue 14's targets: events/s at least 1.0x the reference on SQLite, 0.8x on PostgreSQL;
    # TTFE at most 1.0x; no errors.
    floor = 0.8 if postgres else 1.0
    for load in dict.fromkeys(r["load"] for r in rows):
        ours = next(r for r in rows if r["load"] == load and r["server"] == "chatkitd")
        ref = next(r for r in rows if r["load"] == load and r["server"] == "reference")
        ratio = ours["ttfe_p50_ms"] / ref["ttfe_p50_ms"]
        throughput = ours["events_per_s_total"] / ref["events_per_s_total"]
        cpu = ours["cpu_ms_per_request"] / ref["cpu_ms_per_request"] if ref["cpu_ms_per_request"] else 0.0
        ok = ratio <= 1.0 and throughput >= floor and ours["errors"] == 0
        print(
            f"{load}: TTFE {ratio:.2f}x (target <= 1.0x), events/s {throughput:.2f}x "
            f"(target >= {floor:.1f}x), server CPU per request {cpu:.2f}x, "
            f"errors {ours['errors']} -> {'ok' if ok else 'OVER TARGET'}"
        )


if __name__ == "__main__":
    main()
