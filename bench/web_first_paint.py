"""The chat's weight and how soon it shows: bundle sizes (gzip) and time to first paint on a loopback page.

    .venv/bin/python bench/web_first_paint.py [--runs 10]

Sizes are those of the built bundles in ``chatkitd/web/static`` (``make web``), raw and
gzipped (level 6, what a server's gzip usually sends): ``chatkit.js`` is what a page loads;
``rich.js`` (highlight.js and KaTeX) only when an answer first has code or math.

Timing runs Debian's Chromium (``/usr/bin/chromium``, headless, through Playwright) against
a ``chatkitd serve`` on loopback and a page server on another loopback port, as an
integrator's page is served. Two pages, interleaved, each in a fresh browser context (a
cold cache, as a first visit):

- ``bare``: the integrator's page without the chat (its header and an empty box): the baseline;
- ``chat``: the same page with ``<script src=…/static/chatkit.js async>`` in the head and an
  ``<openai-chatkit>`` configured in the hosted style, as ChatKit's docs write it.

For each: first contentful paint (the browser's ``paint`` timing), and for the chat the
moment ``chatkit.ready`` fires (options applied, first view painted), from navigation start.
Medians of ``--runs``, and ratios to the bare page's first paint.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "chatkitd" / "web" / "static"
CHROMIUM = "/usr/bin/chromium"

HEAD = '<meta charset="utf-8"><title>My app</title><link rel="icon" href="data:,">'
BODY = "<header><strong>My app</strong></header><main style='height:600px'>{}</main>"
BARE = f"<!doctype html><html><head>{HEAD}</head><body>{BODY.format('')}</body></html>"
CHAT = f"""<!doctype html><html><head>{HEAD}
<script src="{{chatkitd}}/static/chatkit.js" async></script></head><body>
{BODY.format('<openai-chatkit id="chat" style="display:block;height:600px"></openai-chatkit>')}
<script>
  window.readyAt = null;
  customElements.whenDefined("openai-chatkit").then(() => {{
    const chat = document.getElementById("chat");
    chat.addEventListener("chatkit.ready", () => {{ window.readyAt = performance.now(); }});
    chat.setOptions({{
      api: {{ getClientSecret: async () => {{
        const response = await fetch("/session", {{ method: "POST" }});
        return (await response.json()).client_secret;
      }} }},
      startScreen: {{ greeting: "How can we help?",
                     prompts: [{{ label: "Track an order", prompt: "order", icon: "map-pin" }}] }},
    }});
  }});
</script></body></html>"""

FCP = """() => new Promise((resolve) => {
  const done = () => {
    const entry = performance.getEntriesByName("first-contentful-paint")[0];
    if (entry) return resolve(entry.startTime);
    setTimeout(done, 10);
  };
  done();
})"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sizes() -> list[tuple[str, int, int]]:
    rows = []
    for name in ("chatkit.js", "chatkitd.js", "rich.js"):
        path = STATIC / name
        if path.exists():
            data = path.read_bytes()
            rows.append((name, len(data), len(gzip.compress(data, 6))))
    return rows


def page_server(chatkitd: str, admin_key: str) -> tuple[ThreadingHTTPServer, str]:
    pages = {"/bare": BARE.encode(), "/chat": CHAT.replace("{chatkitd}", chatkitd).encode()}

    class Handler(BaseHTTPRequestHandler):
        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path not in pages:
                self.send_error(404)
                return
            self._send(pages[self.path], "text/html; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            request = urllib.request.Request(
                f"{chatkitd}/v1/chatkit/sessions",
                data=json.dumps({"user": "bench", "workflow": {"id": "demo"}}).encode(),
                headers={
                    "authorization": f"Bearer {admin_key}",
                    "content-type": "application/json",
                    "openai-beta": "chatkit_beta=v1",
                },
            )
            with urllib.request.urlopen(request) as answer:
                self._send(answer.read(), "application/json")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def wait_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("chatkitd exited before answering")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def measure(browser, url: str, chat: bool) -> tuple[float, float | None]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        page = context.new_page()
        page.goto(url)
        fcp = page.evaluate(FCP)
        ready = None
        if chat:
            page.wait_for_function("() => window.readyAt !== null", timeout=30_000)
            ready = page.evaluate("() => window.readyAt")
        return fcp, ready
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if not (STATIC / "build.json").exists():
        raise SystemExit("the web UI is not built: run `make web`")

    print(f"{'bundle':<14}{'bytes':>10}{'gzip':>10}")
    for name, raw, packed in sizes():
        print(f"{name:<14}{raw:>10,}{packed:>10,}")

    from playwright.sync_api import sync_playwright

    admin_key = "sk-bench-" + secrets.token_hex(8)
    data_dir = tempfile.mkdtemp(prefix="chatkitd-bench-web-")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")},
        "CHATKITD_DATA_DIR": data_dir,
        "CHATKITD_API_KEY": admin_key,
        "CHATKITD_LOG_LEVEL": "warning",
        "CHATKITD_MODE": "production",
    }
    chatkitd_url = f"http://127.0.0.1:{port}"
    pages, origin = page_server(chatkitd_url, admin_key)
    env["CHATKITD_CORS_ORIGINS"] = origin
    process = subprocess.Popen([sys.executable, "-m", "chatkitd", "serve", "--port", str(port)], env=env)
    try:
        wait_up(f"{chatkitd_url}/healthz", process)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox"]
            )
            try:
                measure(browser, f"{origin}/bare", False)  # warm both servers up
                measure(browser, f"{origin}/chat", True)
                bare, chat_fcp, chat_ready = [], [], []
                for _ in range(args.runs):
                    bare.append(measure(browser, f"{origin}/bare", False)[0])
                    fcp, ready = measure(browser, f"{origin}/chat", True)
                    chat_fcp.append(fcp)
                    chat_ready.append(ready or 0.0)
            finally:
                browser.close()
    finally:
        process.terminate()
        process.wait(15)
        pages.shutdown()

    base = statistics.median(bare)
    print(f"\nloopback page, cold cache, medians of {args.runs} (ms from navigation start)")
    print(f"{'page':<34}{'ms':>8}{'x bare':>9}")
    for label, samples in (
        ("bare page: first paint", bare),
        ("chat page: first paint", chat_fcp),
        ("chat page: chatkit.ready (drawn)", chat_ready),
    ):
        value = statistics.median(samples)
        print(f"{label:<34}{value:>8.0f}{value / base:>9.2f}")


if __name__ == "__main__":
    main()
