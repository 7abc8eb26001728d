"""A stand-in for an integrator's web server, for the drop-in tests.

It serves the test's pages (any HTML or script the test registers) from its own
origin, and mints sessions at ``POST /api/chatkit/session?workflow=<id>`` with the
``openai`` SDK and an admin key, as a real backend does (the key never reaches the page).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from openai import OpenAI


class Integrator:
    def __init__(self, chatkitd_url: str, admin_key: str, port: int) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{self.port}"
        self.chatkitd_url = chatkitd_url
        self.files: dict[str, tuple[str, bytes, dict[str, str]]] = {}
        self.client = OpenAI(base_url=f"{chatkitd_url}/v1", api_key=admin_key)
        self.sessions: list[dict] = []

    def add(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve `body` at `path` (with `headers`) and return its URL; ``{{CHATKITD}}`` in a text
        body or a header is chatkitd's URL."""
        if isinstance(body, str):
            body = body.replace("{{CHATKITD}}", self.chatkitd_url).encode()
        headers = {
            name: value.replace("{{CHATKITD}}", self.chatkitd_url) for name, value in (headers or {}).items()
        }
        self.files[path] = (content_type, body, headers)
        return self.origin + path

    def mint(self, workflow: str, user: str) -> dict:
        session = self.client.beta.chatkit.sessions.create(
            user=user,
            workflow={"id": workflow},
            chatkit_configuration={"file_upload": {"enabled": True, "max_file_size": 2}},
            rate_limits={"max_requests_per_1_minute": 600},
        )
        body = {"client_secret": session.client_secret, "user": user}
        self.sessions.append({**body, "id": session.id})  # the id stays here, as a backend keeps it
        return body

    def handler(self) -> type[BaseHTTPRequestHandler]:
        integrator = self

        class Handler(BaseHTTPRequestHandler):
            def _send(
                self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.send_header("cache-control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = urlsplit(self.path).path
                if path not in integrator.files:
                    return self._send(404, "text/plain", b"not found")
                self._send(200, *integrator.files[path])

            def do_POST(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                if url.path != "/api/chatkit/session":
                    return self._send(404, "text/plain", b"not found")
                query = parse_qs(url.query)
                workflow = query.get("workflow", ["demo"])[0]
                user = query.get("user", ["page-user"])[0]
                body = json.dumps(integrator.mint(workflow, user)).encode()
                self._send(200, "application/json", body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def chatkitd_and_integrator(
    data_dir, admin_key: str, workflows_dir, domain_key: str | None = None, **settings
) -> Iterator[tuple]:
    """A chatkitd allowing the integrator's origin (CORS), and the integrator, on two ports.

    With `domain_key`, chatkitd checks domain keys (CHATKITD_DOMAIN_KEYS), with that key
    registered for the integrator's origin only."""
    from tests.support.servers import free_port, start_server

    port = free_port()
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    cors = [f"http://127.0.0.1:{port}"]
    if domain_key:
        settings["domain_keys"] = {domain_key: cors}
    with start_server(
        url, data_dir, admin_key, cors_origins=cors, workflows_dir=workflows_dir, **settings
    ) as chatkitd:
        with serve_integrator(chatkitd.base_url, admin_key, port) as integrator:
            yield chatkitd, integrator


@contextmanager
def serve_integrator(chatkitd_url: str, admin_key: str, port: int) -> Iterator[Integrator]:
    integrator = Integrator(chatkitd_url, admin_key, port)
    server = ThreadingHTTPServer(("127.0.0.1", integrator.port), integrator.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield integrator
    finally:
        server.shutdown()
        server.server_close()
