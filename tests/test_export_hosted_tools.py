"""An Agent Builder export's hosted tools, run on chatkitd's own on a Chat Completions model.

The export (written here in the export's shape) gives one agent OpenAI's
hosted ``FileSearchTool`` and ``HostedMCPTool``. The model is a fake Chat
Completions server over loopback (no OpenAI key, no Responses API), so the
hosted tools can only work through chatkitd: the file search through its
vector stores (answering with a file citation), the MCP server (the ``mcp``
package's, on loopback) through its MCP client.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from chatkitd.workflows.deploy import deploy_file
from tests.conftest import ADMIN_KEY
from tests.support.chat import Chat, new_session
from tests.support.fake_llm import fake_llm
from tests.support.mcp import McpServerProcess
from tests.support.servers import start_server

WF_ID = "wf_0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"
FACT = "The expense code for team offsites is ZX-4417."
HANDBOOK = (
    "# Staff handbook\n\nLaptops are replaced every three years.\n\n" + FACT + "\n\nVisitors wear a badge."
)

EXPORT = """
from agents import Agent, FileSearchTool, HostedMCPTool, ModelSettings, RunConfig, Runner
from agents import TResponseInputItem, trace
from pydantic import BaseModel

file_search = FileSearchTool(vector_store_ids=["{store_id}"])
mcp = HostedMCPTool(tool_config={{
    "type": "mcp",
    "server_label": "crm",
    "server_url": "{mcp_url}",
    "allowed_tools": ["lookup_customer"],
    "require_approval": "never",
}})
desk = Agent(
    name="Desk",
    instructions="Answer from the handbook, or look the customer up in the CRM.",
    model="gpt-4.1-mini",
    tools=[file_search, mcp],
    model_settings=ModelSettings(store=True),
)


class WorkflowInput(BaseModel):
    input_as_text: str


async def run_workflow(workflow_input: WorkflowInput):
    with trace("Desk"):
        workflow = workflow_input.model_dump()
        conversation_history: list[TResponseInputItem] = [
            {{"role": "user", "content": [{{"type": "input_text", "text": workflow["input_as_text"]}}]}}
        ]
        desk_result_temp = await Runner.run(
            desk,
            input=[*conversation_history],
            run_config=RunConfig(
                trace_metadata={{"__trace_source__": "agent-builder", "workflow_id": "{wf_id}"}}
            ),
        )
        return {{"output_text": desk_result_temp.final_output_as(str)}}
"""


def _text(content: Any) -> str:
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content or [])


def reply(body: dict[str, Any]) -> dict[str, Any]:
    """Asked about expenses: file_search; about a customer: lookup_customer; given a result: cite it."""
    messages = body["messages"]
    last = messages[-1]
    offered = {t["function"]["name"] for t in body.get("tools", [])}
    if last["role"] == "tool":
        result = _text(last["content"])
        if "[1]" in result:
            sentence = next(s for s in result.split("\n") if "ZX-" in s)
            return {"text": f"{sentence.strip()} [1]"}
        return {"text": f"CRM: {result}"}
    asked = _text(last["content"])
    if "expense" in asked and "file_search" in offered:
        return {"call": "file_search", "arguments": {"query": asked}}
    if "customer" in asked and "lookup_customer" in offered:
        return {"call": "lookup_customer", "arguments": {"customer_id": "c3"}}
    return {"text": f"No tool for that (offered: {sorted(offered)})"}


@pytest.fixture(scope="module")
def desk(database_url, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("export-tools")
    with McpServerProcess("streamable-http") as crm, fake_llm(reply=reply) as fake:
        with start_server(database_url, data_dir, ADMIN_KEY, model_base_url=fake.base_url) as server:
            with server.sdk(ADMIN_KEY) as sdk:
                store = sdk.vector_stores.create(name="Handbook")
                uploaded = sdk.vector_stores.files.upload_and_poll(
                    vector_store_id=store.id,
                    file=("handbook.md", io.BytesIO(HANDBOOK.encode())),
                    poll_interval_ms=50,
                )
                assert uploaded.status == "completed", uploaded.last_error
            path = data_dir / "export.py"
            path.write_text(EXPORT.format(store_id=store.id, mcp_url=crm.url, wf_id=WF_ID))
            server.run(deploy_file(server.platform.workflows, "default", Path(path), workflow_id=None))
            yield server, uploaded.id


@pytest.fixture
def chat(desk, user):
    server, _ = desk
    with server.sdk(ADMIN_KEY) as sdk:
        session = new_session(sdk, user, workflow={"id": WF_ID})
    with Chat(server, session.client_secret) as chat:
        yield chat


def test_the_exports_file_search_searches_chatkitds_store_and_cites_the_file(desk, chat):
    _, file_id = desk
    stream = chat.create("What is the expense code for team offsites?")
    [answer] = stream.done_items("assistant_message")
    [part] = answer["content"]
    assert FACT in part["text"]
    [annotation] = part["annotations"]
    assert annotation["source"]["filename"] == "handbook.md" and annotation["source"]["group"] == file_id


def test_the_exports_hosted_mcp_tool_runs_through_chatkitds_mcp_client(desk, chat):
    # The record comes from the MCP server on loopback only: the model repeats the tool's output.
    stream = chat.create("Look up the customer please")
    assert stream.text().strip() == "CRM: Customer c3: Ada Lovelace, gold plan"
    # Two model calls, one listing of the server's tools: the export's agent lists them once per run.
    server, _ = desk
    with server.sdk(ADMIN_KEY) as sdk:
        [trace] = sdk.get(f"/chatkit/traces?thread_id={stream.thread_id}", cast_to=object)["data"]
        spans = sdk.get(f"/chatkit/traces/{trace['id']}", cast_to=object)["spans"]
    assert [s["kind"] for s in spans].count("mcp_tools") == 1
