"""A stand-in OpenAI-compatible speech-to-text server: real HTTP on loopback, answering
``POST /v1/audio/transcriptions`` (multipart, as the ``openai`` SDK sends it) with
``{"text": ...}``, and keeping each request's fields, file and headers for the test to read."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.servers import RunningServer, start_server


@dataclass
class FakeTranscription:
    base_url: str
    text: str = "hello from the microphone"
    status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def fake_transcription_server() -> Iterator[FakeTranscription]:
    state = FakeTranscription(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            head = f"Content-Type: {self.headers.get('content-type')}\r\n\r\n".encode()
            message = email.message_from_bytes(head + body, policy=email.policy.HTTP)
            fields: dict[str, Any] = {}
            for part in message.iter_parts():
                name = str(part.get_param("name", header="content-disposition"))
                if part.get_filename():
                    fields[name] = {
                        "filename": part.get_filename(),
                        "content_type": part.get_content_type(),
                        "data": part.get_payload(decode=True),
                    }
                else:
                    fields[name] = part.get_content().strip()
            state.requests.append(
                {"path": self.path, "authorization": self.headers.get("authorization"), "fields": fields}
            )
            if state.status != 200:
                payload: dict[str, Any] = {
                    "error": {"message": "the model is not loaded", "type": "server_error"}
                }
            else:
                payload = {"text": f"  {state.text}  "}
            raw = json.dumps(payload).encode()
            self.send_response(state.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def chatkitd_with_dictation(
    endpoint: FakeTranscription, data_dir: Path, admin_key: str, **overrides: Any
) -> Iterator[RunningServer]:
    """chatkitd on SQLite, its dictation answered by `endpoint` with model whisper-large-v3."""
    with start_server(
        f"sqlite+aiosqlite:///{data_dir / 'db.sqlite'}",
        data_dir,
        admin_key,
        transcription_base_url=endpoint.base_url,
        transcription_model="whisper-large-v3",
        **overrides,
    ) as running:
        yield running
