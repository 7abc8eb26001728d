"""A paused run survives its process: paused on one ``chatkitd serve``, killed, approved on another."""

from __future__ import annotations

import json
import secrets
import shutil
import signal
from pathlib import Path

import httpx2
import pytest
from openai import OpenAI

from tests.support.chat import parse_sse, user_input
from tests.support.processes import serve_process, serve_process_handle
from tests.support.servers import fresh_database

DATA = Path(__file__).parent / "workflows_data"


@pytest.fixture(params=["sqlite", "postgres"])
def setup(request, tmp_path):
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    shutil.copy(DATA / "approvals.yaml", workflows)
    with fresh_database(request.param, tmp_path / "chatkitd.db", "chatkitd_approvals") as url:
        yield url, tmp_path, "sk-test-" + secrets.token_hex(8), workflows


def post(base_url: str, secret: str, type: str, **params) -> httpx2.Response:
    return httpx2.post(
        f"{base_url}/v1/chatkit/conversation",
        json={"type": type, "params": params},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=60,
    )


def test_approved_on_another_process_after_the_first_was_killed(setup):
    url, data_dir, admin_key, workflows = setup
    env = {"CHATKITD_WORKFLOWS_DIR": str(workflows)}
    with serve_process_handle(url, data_dir, admin_key, **env) as (first, process):
        sdk = OpenAI(base_url=f"{first}/v1", api_key=admin_key, max_retries=0)
        session = sdk.beta.chatkit.sessions.create(user="ada", workflow={"id": "approvals"})
        paused = parse_sse(
            post(first, session.client_secret, "threads.create", input=user_input("email it")).text
        )
        thread_id = next(e for e in paused if e["type"] == "thread.created")["thread"]["id"]
        [card] = [
            e["item"] for e in paused if e["type"] == "thread.item.done" and e["item"]["type"] == "widget"
        ]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    with serve_process(url, data_dir, admin_key, **env) as second:
        # A reload on the new process shows the card still waiting.
        items = json.loads(post(second, session.client_secret, "items.list", thread_id=thread_id).text)
        assert any(item["id"] == card["id"] and "confirm" in item["widget"] for item in items["data"])
        action = card["widget"]["confirm"]["action"]
        response = post(
            second,
            session.client_secret,
            "threads.custom_action",
            thread_id=thread_id,
            item_id=card["id"],
            action=action,
        )
        assert response.status_code == 200, response.text
        events = parse_sse(response.text)
        messages = [
            e["item"]
            for e in events
            if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
        ]
        assert messages[-1]["content"][0]["text"] == "Result: Sent 'Invoice' to ada@example.com."
        again = post(
            second,
            session.client_secret,
            "threads.custom_action",
            thread_id=thread_id,
            item_id=card["id"],
            action=action,
        )
        assert again.status_code == 409
