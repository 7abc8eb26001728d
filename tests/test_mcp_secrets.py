"""An MCP server's `env:` secrets never reach chatkitd's log nor its traces, whatever happens.

A real ``chatkitd serve`` logs at ``debug`` (its most talkative level, the
MCP and HTTP client libraries' lines included) while a workflow calls an MCP
server with two headers taken from the environment: a call that works, the
server killed (a failed call, a failed listing), the server back, and a
server that refuses the credentials. Neither secret may appear in the log
or in any span of the thread's traces.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from types import SimpleNamespace

import httpx2
from openai import OpenAI

from tests.support.chat import Chat
from tests.support.mcp import McpServerProcess
from tests.support.processes import ServeProcess

TOKEN = "Bearer tok-" + secrets.token_hex(12)
API_KEY = "key-" + secrets.token_hex(12)
WORKFLOW = """
id: {id}
provider:
  type: scripted
  script:
    - when: "^who"
      steps: [{{call: {{name: whoami}}}}, {{text: "Whoami: {{{{ tool_output }}}}"}}]
    - steps: [{{text: "Tools: {{{{ tools }}}}"}}]
tools:
  - mcp:
      server_label: crm
      url: {url}
      headers: {{Authorization: "env:CRM_TOKEN", X-Api-Key: "env:CRM_API_KEY"}}
      require_approval: never
      timeout: 3
      tools_cache_seconds: 0
"""


def test_env_secrets_stay_out_of_the_log_and_the_traces(tmp_path: Path):
    admin_key = "sk-test-" + secrets.token_hex(8)
    crm = McpServerProcess("streamable-http", EXPECTED_AUTHORIZATION=TOKEN).start()
    # A server that refuses the credentials: every request it gets is a 401.
    refusing = McpServerProcess(
        "streamable-http", argv=[*McpServerProcess().argv, "--refuse-everyone"]
    ).start()
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "crm.yaml").write_text(WORKFLOW.format(id="crm", url=crm.url))
    (workflows / "refusing.yaml").write_text(WORKFLOW.format(id="refusing", url=refusing.url))
    server = ServeProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'chatkitd.db'}",
        tmp_path,
        admin_key,
        env={
            "CHATKITD_LOG_LEVEL": "debug",
            "CHATKITD_WORKFLOWS_DIR": str(workflows),
            "CRM_TOKEN": TOKEN,
            "CRM_API_KEY": API_KEY,
        },
    )
    threads = []
    try:
        server.wait_ready()
        sdk = OpenAI(base_url=f"{server.base_url}/v1", api_key=admin_key, max_retries=0)

        def chat(workflow_id: str) -> Chat:
            session = sdk.beta.chatkit.sessions.create(
                user="ada",
                workflow={"id": workflow_id},
                rate_limits={"max_requests_per_1_minute": 100},
            )
            return Chat(SimpleNamespace(base_url=server.base_url), session.client_secret)  # type: ignore[arg-type]

        with chat("crm") as crm_chat, chat("refusing") as refusing_chat:
            first = crm_chat.create("who am I")
            assert first.text() == "Whoami: authorized"  # both headers arrived
            threads.append(first.thread_id)

            crm.stop()
            down = crm_chat.say(first.thread_id, "who now")
            assert down.text().startswith("Whoami: The tool failed: MCP server 'crm' ")
            threads.append(crm_chat.create("who is there").thread_id)  # the listing fails too

            crm.start()
            assert crm_chat.say(first.thread_id, "who again").text() == "Whoami: authorized"

            refused = refusing_chat.create("tools please")
            threads.append(refused.thread_id)
            assert refused.text() == "Tools: "  # refused at the listing: no tools

        traces = []
        with httpx2.Client(
            base_url=f"{server.base_url}/v1", headers={"Authorization": f"Bearer {admin_key}"}
        ) as admin:
            for thread_id in threads:
                listed = admin.get("/chatkit/traces", params={"thread_id": thread_id}).json()["data"]
                traces += [admin.get(f"/chatkit/traces/{t['id']}").json() for t in listed]
    finally:
        server.stop()
        crm.stop()
        refusing.stop()

    log = server.log_path.read_text()
    spans = json.dumps(traces)
    assert "did not list its tools" in log and "mcp" in log.lower()  # the failures were logged
    assert '"function"' in spans and "MCP server unreachable" in spans
    for secret in (TOKEN.split(" ")[1], API_KEY):
        assert secret not in log, f"a secret reached the log: {secret}"
        assert secret not in spans, f"a secret reached a trace: {secret}"
