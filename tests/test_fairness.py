"""One user's big request never stalls another's: a message is bounded, and a long answer yields the
event loop as it streams, so the server's loop keeps turning (measured on the loop itself)."""

from __future__ import annotations

import asyncio
import time

import httpx2

from chatkitd.rest.input_policy import MAX_MESSAGE_CHARS
from chatkitd.workflows import registry
from tests.conftest import ADMIN_KEY
from tests.support.chat import error_of, user_input
from tests.support.servers import start_server


class LoopLag:
    """The longest the server's event loop went without running a 5 ms ticker."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.worst = 0.0
        self._stop = False
        self._future = asyncio.run_coroutine_threadsafe(self._tick(), loop)

    async def _tick(self) -> None:
        last = time.monotonic()
        while not self._stop:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            self.worst = max(self.worst, now - last)
            last = now

    def stop(self) -> float:
        self._stop = True
        self._future.result(10)
        return self.worst


def test_a_message_over_the_bound_is_a_400_naming_it(server, user, chat_for):
    chat = chat_for(user)
    text = "w " * (MAX_MESSAGE_CHARS // 2 + 1)
    response = chat.post("threads.create", input=user_input(text))
    assert response.status_code == 400, response.text[:300]
    assert error_of(response)["param"] == "params.input.content[0].text"


def test_a_long_echo_does_not_block_the_event_loop(server, user, chat_for):
    chat = chat_for(user)
    words = MAX_MESSAGE_CHARS // 6  # "word " x n, just under the bound
    text = "word " * words
    lag = LoopLag(server.loop)
    started = time.monotonic()
    with httpx2.stream(
        "POST",
        server.base_url + "/v1/chatkit/conversation",
        json={"type": "threads.create", "params": {"input": user_input(text)}},
        headers={"Authorization": f"Bearer {chat.secret}"},
        timeout=120,
    ) as response:
        assert response.status_code == 200
        body = b"".join(response.iter_bytes())
    took = time.monotonic() - started
    worst = lag.stop()
    assert b"thread.item.done" in body
    # Generous for a loaded machine: the whole answer took `took`; no single stall comes near it.
    assert worst < 1.0, f"the event loop stalled {worst:.2f}s during a {took:.2f}s answer"


def test_the_built_in_workflow_is_built_before_the_first_chat(tmp_path):
    # Building it (imports, pydantic schemas) held the loop about 0.5 s in the first chat after start.
    registry._instances.clear()
    with start_server(f"sqlite+aiosqlite:///{tmp_path / 'first.db'}", tmp_path, ADMIN_KEY):
        assert "demo" in registry._instances
