"""A small ChatKit protocol client for tests: what a browser would send with a client secret."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from openai import OpenAI

from tests.support.servers import RunningServer

# What the conversation answers every ``threads.delete`` and ``attachments.delete``.
DELETED = (200, "application/json", b"{}")


def user_input(text: str, attachments: list[str] | None = None) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": attachments or [],
        "inference_options": {},
    }


def parse_sse(body: str) -> list[dict[str, Any]]:
    """``data: <json>\\n\\n`` frames, and nothing else, into events."""
    events = []
    for frame in body.split("\n\n"):
        if not frame.strip():
            continue
        assert frame.startswith("data: "), f"unexpected frame {frame!r}"
        assert "\n" not in frame, f"a frame has more than one line: {frame!r}"
        events.append(json.loads(frame[len("data: ") :]))
    return events


@dataclass
class Stream:
    response: httpx2.Response
    events: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    @property
    def thread_id(self) -> str:
        return self.of("thread.created")[0]["thread"]["id"]

    def done_items(self, item_type: str | None = None) -> list[dict[str, Any]]:
        items = [e["item"] for e in self.of("thread.item.done")]
        return [i for i in items if item_type is None or i["type"] == item_type]

    def text(self) -> str:
        """The text of the last finished assistant message."""
        return self.done_items("assistant_message")[-1]["content"][0]["text"]


class Chat:
    """Requests to ``/v1/chatkit/conversation`` with one client secret."""

    def __init__(self, server: RunningServer, secret: str, headers: dict[str, str] | None = None):
        self.server = server
        self.secret = secret
        self.session: Any = None  # the SDK's session object, when chat_for made it
        self.http = httpx2.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {secret}", **(headers or {})},
            timeout=30,
        )

    def post(self, _type: str, /, **params: Any) -> httpx2.Response:
        return self.http.post("/v1/chatkit/conversation", json={"type": _type, "params": params})

    def call(self, _type: str, /, **params: Any) -> dict[str, Any]:
        """A non-streaming request that must succeed."""
        response = self.post(_type, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        return response.json()

    def deleted(self, _type: str, /, **params: Any) -> tuple[int, str, bytes]:
        """A delete's whole answer (status, content type, body): the protocol's deletes are
        idempotent, so a deleted, a missing and someone else's id must all answer the same."""
        response = self.post(_type, **params)
        return response.status_code, response.headers.get("content-type", ""), response.content

    def stream(self, _type: str, /, **params: Any) -> Stream:
        """A streaming request that must succeed, read to the end."""
        response = self.post(_type, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        return Stream(response, parse_sse(response.text))

    def create(self, text: str, **input_fields: Any) -> Stream:
        return self.stream("threads.create", input=user_input(text) | input_fields)

    def say(self, thread_id: str, text: str) -> Stream:
        return self.stream("threads.add_user_message", thread_id=thread_id, input=user_input(text))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Chat:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def disconnect_mid_stream(chat: Chat, text: str, deltas: int = 5) -> str:
    """Start a thread with ``text``, read ``deltas`` text deltas of the answer, then drop
    the connection as a closed browser tab would. Returns the thread's id."""
    url = urlsplit(chat.server.base_url)
    assert url.hostname is not None
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = {"type": "threads.create", "params": {"input": user_input(text)}}
    conn.request(
        "POST",
        "/v1/chatkit/conversation",
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {chat.secret}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    assert response.status == 200
    # http.client, not httpx2: read1 hands over frames as they arrive, and closing
    # the socket is an abrupt disconnect rather than a polite end of stream.
    thread_id, seen, buffer = "", 0, b""
    while seen < deltas:
        buffer += response.read1(4096)
        *frames, buffer = buffer.split(b"\n\n")
        for frame in frames:
            event = json.loads(frame.removeprefix(b"data: "))
            if event["type"] == "thread.created":
                thread_id = event["thread"]["id"]
            elif event["type"] == "thread.item.updated" and "delta" in event["update"]:
                seen += 1
    assert conn.sock is not None
    conn.sock.close()
    conn.close()
    return thread_id


def new_session(client: OpenAI, user: str, **options: Any) -> Any:
    """A session on the demo workflow, minted through the SDK like an integrator's backend."""
    options.setdefault("workflow", {"id": "demo"})
    options.setdefault("rate_limits", {"max_requests_per_1_minute": 1000})
    return client.beta.chatkit.sessions.create(user=user, **options)


def error_of(response: httpx2.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()["error"]


@pytest.fixture
def chat_for(server, client):
    """``chat_for(user, **session_options)``: a Chat on a new session, closed after the test."""
    opened: list[Chat] = []

    def make(user: str, sdk: OpenAI | None = None, **options: Any) -> Chat:
        session = new_session(sdk or client, user, **options)
        chat = Chat(server, session.client_secret)
        chat.session = session
        opened.append(chat)
        return chat

    yield make
    for chat in opened:
        chat.close()
