"""The examples of MCP with approval and of web search: they deploy, and the order desk works end to end."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from chatkitd.cli import main
from tests.support.chat import Stream, parse_sse
from tests.support.harness import deploy_yaml
from tests.support.mcp import McpServerProcess

EXAMPLES = Path(__file__).parents[1] / "examples"
SCRIPTED = """provider:
  type: scripted
  script:
    - when: refund
      steps:
        - call: {name: list_orders, arguments: {customer_id: C-100}}
        - call: {name: refund_order, arguments: {order_id: O-2, reason: damaged}}
        - text: "{{ tool_output }}"
"""


def test_the_examples_deploy(tmp_path):
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    assert CliRunner().invoke(main, ["migrate"], env=env).exit_code == 0  # the server's database
    for name in ("order-desk.yaml", "web-search.yaml"):
        result = CliRunner().invoke(main, ["workflows", "deploy", str(EXAMPLES / name)], env=env)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Deployed ")


def test_the_order_desk_refunds_after_approval(server, chat_for, user, monkeypatch):
    token = "Bearer example-token"
    monkeypatch.setenv("CRM_TOKEN", token)
    argv = [sys.executable, str(EXAMPLES / "mcp" / "crm_server.py")]
    with McpServerProcess(argv=argv, CRM_TOKEN=token) as crm:
        # The example as written, on the offline scripted model and this test's port.
        text = (EXAMPLES / "order-desk.yaml").read_text()
        text = text.replace("model: gpt-4.1-mini\n", SCRIPTED).replace(
            "127.0.0.1:8931", f"127.0.0.1:{crm.port}"
        )
        text = text.replace("id: order-desk", f"id: order-desk-{user}")
        server.run(deploy_yaml(server.platform, text))
        chat = chat_for(user, workflow={"id": f"order-desk-{user}"})
        paused = chat.create("please refund my punch cards")
        [card] = paused.done_items("widget")
        assert card["widget"]["children"][0]["value"] == "Run refund_order?"
        action = card["widget"]["confirm"]["action"]
        response = chat.post(
            "threads.custom_action", thread_id=paused.thread_id, item_id=card["id"], action=action
        )
        assert response.status_code == 200, response.text
        assert (
            Stream(response, parse_sse(response.text)).text() == "Refunded 18.50 EUR for order O-2 (damaged)."
        )
