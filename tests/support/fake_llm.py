"""A tiny OpenAI-compatible Chat Completions server, for tests of the chat_completions provider.

It speaks ``POST /v1/chat/completions`` (streaming SSE and plain JSON) over
real HTTP on a free loopback port, and records each request it gets. Like
Ollama, it can serve only some models (others answer 404 "model ... not
found") and insist on a key (others answer 401).

It also speaks ``POST /v1/embeddings``: a text's vector counts its words'
concepts (a word is its own concept unless ``concepts`` maps it to another),
hashed into ``EMBEDDING_DIMS`` buckets, so texts that share meaning but no word
are near, as with a real model; a text holding ``POISON`` gets a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from tests.support.servers import free_port


@dataclass
class FakeLLM:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    # What to answer a request body with: {"text": ...} or {"call": name, "arguments": {...}}.
    reply: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # None: any model is served. Otherwise only these; others get Ollama's 404.
    models: set[str] | None = None
    # Set: requests without "Authorization: Bearer <key>" get a 401.
    key: str | None = None
    # /v1/embeddings: word -> the concept it means; and the inputs embedded, in order.
    concepts: dict[str, str] = field(default_factory=dict)
    embedded: list[str] = field(default_factory=list)
    # Seconds a chat completion waits before it answers (a server that went silent).
    delay: float = 0.0

    @property
    def models_asked(self) -> list[str]:
        return [r["body"]["model"] for r in self.requests]


def _reply(body: dict[str, Any]) -> dict[str, Any]:
    """What to answer: a tool call when asked the time (and offered the tool), else text."""
    messages = body["messages"]
    last = messages[-1]
    tools = [t["function"]["name"] for t in body.get("tools") or []]
    if last["role"] == "tool":
        return {"text": f"The time is {last['content']}."}
    text = last["content"] if isinstance(last["content"], str) else last["content"][0]["text"]
    if "time" in text and "current_time" in tools:
        return {"call": "current_time"}
    if "store" in text and "get_location" in tools:
        return {"call": "get_location", "arguments": {"precision": "city"}}
    return {"text": f"Echo: {text}"}


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None, usage: dict | None = None) -> str:
    payload: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        payload["usage"] = usage
    return f"data: {json.dumps(payload)}\n\n"


def app(fake: FakeLLM) -> Starlette:
    async def completions(request: Request):
        body = await request.json()
        fake.requests.append({"body": body, "authorization": request.headers.get("authorization")})
        if fake.delay:
            await asyncio.sleep(fake.delay)
        reply, model = (fake.reply or _reply)(body), body["model"]
        if fake.key is not None and request.headers.get("authorization") != f"Bearer {fake.key}":
            error = {"message": "Incorrect API key provided.", "type": "invalid_request_error", "code": None}
            return JSONResponse({"error": error}, status_code=401)
        if fake.models is not None and model not in fake.models:
            error = {"message": f'model "{model}" not found, try pulling it first', "type": "api_error"}
            return JSONResponse({"error": error}, status_code=404)
        usage = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}
        if not body.get("stream"):
            message = {"role": "assistant", "content": reply.get("text", "")}
            return JSONResponse(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                }
            )

        async def stream():
            yield _chunk(model, {"role": "assistant", "content": ""})
            if "call" in reply:
                call = {
                    "index": 0,
                    "id": f"call_fake{len(fake.requests)}",
                    "type": "function",
                    "function": {"name": reply["call"], "arguments": json.dumps(reply.get("arguments", {}))},
                }
                yield _chunk(model, {"tool_calls": [call]})
                yield _chunk(model, {}, "tool_calls")
            else:
                for word in reply["text"].split(" "):
                    await asyncio.sleep(0)
                    yield _chunk(model, {"content": word + " "})
                yield _chunk(model, {}, "stop")
            yield _chunk(model, {}, None, usage) if body.get("stream_options") else ""
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def embeddings(request: Request) -> JSONResponse:
        body = await request.json()
        texts = [body["input"]] if isinstance(body["input"], str) else list(body["input"])
        fake.embedded.extend(texts)
        if any(POISON in text for text in texts):
            return JSONResponse(
                {"error": {"message": "poisoned input", "type": "server_error"}}, status_code=500
            )
        data = [
            {"object": "embedding", "index": index, "embedding": _concept_vector(text, fake.concepts)}
            for index, text in enumerate(texts)
        ]
        usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return JSONResponse({"object": "list", "data": data, "model": body["model"], "usage": usage})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ]
    )


EMBEDDING_DIMS = 1024
STOP_WORDS = frozenset({"the", "and", "for", "this", "that", "with"})
POISON = "POISON"


def _concept_vector(text: str, concepts: dict[str, str]) -> list[float]:
    vector = [0.0] * EMBEDDING_DIMS
    for word in re.findall(r"[a-z]+", text.lower()):
        if len(word) > 2 and word not in STOP_WORDS:
            concept = concepts.get(word, word)
            vector[zlib.crc32(concept.encode()) % EMBEDDING_DIMS] += 1.0
    return vector


@contextlib.contextmanager
def fake_llm(
    models: set[str] | None = None,
    key: str | None = None,
    reply: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    concepts: dict[str, str] | None = None,
    delay: float = 0.0,
) -> Iterator[FakeLLM]:
    port = free_port()
    fake = FakeLLM(
        f"http://127.0.0.1:{port}/v1",
        models=models,
        key=key,
        reply=reply,
        concepts=concepts or {},
        delay=delay,
    )
    server = uvicorn.Server(uvicorn.Config(app(fake), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake LLM did not start")
        time.sleep(0.02)
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(10)
