"""A minimal integrator backend for chatkitd, on the standard library alone (plus ``openai``).

It does the two things every integrator's backend does:

- ``GET /`` serves a page that embeds ``<openai-chatkit>`` (ChatKit.js's element), loaded from the chatkitd server;
- ``POST /api/chatkit/session`` mints a ChatKit session for the signed-in user with the
  ``openai`` SDK pointed at chatkitd, and hands the page its ``client_secret``.

The admin key stays here, on the server; the browser only ever sees client secrets.

Run it next to ``chatkitd serve`` (which must allow this page's origin)::

    CHATKITD_CORS_ORIGINS=http://127.0.0.1:8001 chatkitd serve
    CHATKITD_API_KEY=ck-admin-... .venv/bin/python examples/embed/app.py
    # open http://127.0.0.1:8001

It reads ``CHATKITD_API_KEY`` (an admin key, required), ``CHATKITD_URL``
(default ``http://127.0.0.1:8000``) and ``PORT`` (default 8001).
"""

from __future__ import annotations

import json
import os
import secrets
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from openai import OpenAI

PAGE = (Path(__file__).parent / "index.html").read_text(encoding="utf-8")


def make_server(chatkitd_url: str, api_key: str, host: str = "127.0.0.1", port: int = 8001):
    """The example's HTTP server, not yet serving (call ``serve_forever``)."""
    client = OpenAI(base_url=f"{chatkitd_url}/v1", api_key=api_key)
    page = PAGE.replace("{{CHATKITD_URL}}", chatkitd_url).encode()

    class Handler(BaseHTTPRequestHandler):
        def _user(self) -> str | None:
            cookie = SimpleCookie(self.headers.get("cookie", ""))
            return cookie["demo_user"].value if "demo_user" in cookie else None

        def _send(self, status: int, body: bytes, content_type: str, headers=()) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path != "/":
                return self._send(404, b"not found", "text/plain")
            # Stand-in for your real sign-in: a random user id in a cookie.
            user = self._user() or f"user_{secrets.token_hex(6)}"
            cookie = f"demo_user={user}; Path=/; HttpOnly; SameSite=Lax"
            self._send(200, page, "text/html; charset=utf-8", [("set-cookie", cookie)])

        def do_POST(self) -> None:  # noqa: N802
            user = self._user()
            if self.path != "/api/chatkit/session" or user is None:
                return self._send(404, b"not found", "text/plain")
            session = client.beta.chatkit.sessions.create(
                user=user,
                workflow={"id": "demo"},
                chatkit_configuration={"file_upload": {"enabled": True, "max_file_size": 5}},
                # The default, 10 requests a minute, counts every request of the session,
                # reads (threads.list, items.list) and uploads too: the chat needs more.
                rate_limits={"max_requests_per_1_minute": 60},
            )
            # The page needs the secret, and the limits so it can check files before uploading.
            body = {
                "client_secret": session.client_secret,
                "chatkit_configuration": session.chatkit_configuration.model_dump(),
            }
            self._send(200, json.dumps(body).encode(), "application/json")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


if __name__ == "__main__":
    url = os.environ.get("CHATKITD_URL", "http://127.0.0.1:8000")
    server = make_server(url, os.environ["CHATKITD_API_KEY"], port=int(os.environ.get("PORT", "8001")))
    print(f"Example integrator on http://{server.server_address[0]}:{server.server_address[1]}")
    server.serve_forever()
