"""A graph's approval outlives its server: paused on one process, killed, answered on another."""

from __future__ import annotations

import secrets
import signal
from pathlib import Path

import pytest
from openai import OpenAI

from tests.support.chat import Chat
from tests.support.processes import serve_process, serve_process_handle
from tests.support.servers import fresh_database

TOUR = (Path(__file__).parent / "workflows_data" / "graph_tour.yaml").read_text()


class _Server:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_approval_paused_on_a_killed_process_resumes_on_another(backend, tmp_path):
    admin_key = "sk-test-" + secrets.token_hex(8)
    with fresh_database(backend, tmp_path / "shared.db", "chatkitd_approval") as url:
        with serve_process_handle(url, tmp_path, admin_key) as (first, process):
            sdk = OpenAI(base_url=f"{first}/v1", api_key=admin_key, max_retries=0)
            sdk.post(
                "/chatkit/admin/workflows",
                body={"filename": "tour.yaml", "definition": TOUR},
                cast_to=object,
            )
            session = sdk.beta.chatkit.sessions.create(user="ada", workflow={"id": "graph-tour"})
            with Chat(_Server(first), session.client_secret) as chat:  # type: ignore[arg-type]
                asked = chat.create("refund please")
            [card] = asked.done_items("widget")
            approve = card["widget"]["confirm"]["action"]
            process.send_signal(signal.SIGKILL)  # no shutdown: whatever it held in memory is gone
            process.wait(15)

        with serve_process(url, tmp_path, admin_key) as second:
            with Chat(_Server(second), session.client_secret) as chat:  # type: ignore[arg-type]
                reloaded = chat.call("items.list", thread_id=asked.thread_id)
                # A reload still shows the question with its buttons.
                shown = next(i for i in reloaded["data"] if i["id"] == card["id"])
                assert shown["widget"] == card["widget"] and "confirm" in shown["widget"]
                answered = chat.stream(
                    "threads.custom_action", thread_id=asked.thread_id, item_id=card["id"], action=approve
                )
            texts = [c["text"] for i in answered.done_items("assistant_message") for c in i["content"]]
            assert texts == ["Done: your plan is now refunded."]
            [replaced] = answered.of("thread.item.replaced")
            assert replaced["item"]["widget"]["children"][-1]["children"][0]["label"] == "Approved"
