"""Files attached to a chat message reach the model as what it can read: images as images, PDFs as
files or text, text as text. A fake OpenAI-compatible server over real HTTP records what it received."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from tests.support import documents
from tests.support.chat import Chat, new_session
from tests.support.fake_llm import fake_llm
from tests.support.harness import deploy_yaml

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
UPLOADS = {"file_upload": {"enabled": True, "max_file_size": 2, "max_files": 10}}
WORKFLOW = """
id: {id}
instructions: Describe what the user sends.
model: {model}
provider: {{type: chat_completions, base_url: "{base_url}"{inputs}}}
"""


def _chat(server, client, user, fake, model: str, inputs: str = "") -> Chat:
    workflow_id = "attach-" + re.sub(r"[^A-Za-z0-9]+", "-", model + inputs).strip("-")
    yaml_text = WORKFLOW.format(id=workflow_id, model=model, base_url=fake.base_url, inputs=inputs)
    server.run(deploy_yaml(server.platform, yaml_text))
    session = new_session(client, user, workflow={"id": workflow_id}, chatkit_configuration=UPLOADS)
    return Chat(server, session.client_secret)


def _send(
    chat: Chat, files: list[tuple[str, bytes, str]], text: str = "What is this?"
) -> list[dict[str, Any]]:
    ids = [chat.http.post("/v1/chatkit/files", files={"file": f}).json()["id"] for f in files]
    stream = chat.create(text, attachments=ids)
    assert stream.done_items("assistant_message"), stream.events
    return ids


def _parts(fake) -> list[dict[str, Any]]:
    """The user message's parts in the chat request (the streamed one; titling asks separately)."""
    chat_request = [r for r in fake.requests if r["body"].get("stream")][-1]
    content = chat_request["body"]["messages"][-1]["content"]
    return content if isinstance(content, list) else [{"type": "text", "text": content}]


def test_an_image_reaches_a_vision_model_as_an_image(server, client, user):
    with fake_llm() as fake, _chat(server, client, user, fake, "llava:7b") as chat:
        _send(chat, [("dot.png", PNG, "image/png")])
    parts = _parts(fake)
    assert parts[0] == {"type": "text", "text": "What is this?"}
    [image] = [p for p in parts if p["type"] == "image_url"]
    assert image["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()


def test_a_model_that_cannot_see_is_told_so(server, client, user):
    with fake_llm() as fake, _chat(server, client, user, fake, "plain-text-model") as chat:
        _send(chat, [("dot.png", PNG, "image/png")])
    texts = [p["text"] for p in _parts(fake) if p["type"] == "text"]
    assert not [p for p in _parts(fake) if p["type"] != "text"]
    assert any("dot.png" in t and "cannot see images" in t for t in texts)


def test_provider_inputs_override_what_the_name_suggests(server, client, user):
    with fake_llm() as fake, _chat(server, client, user, fake, "house-model", ", inputs: [images]") as chat:
        _send(chat, [("dot.png", PNG, "image/png")])
    assert [p for p in _parts(fake) if p["type"] == "image_url"]


def test_text_like_files_and_pdfs_reach_a_text_model_as_their_text(server, client, user):
    files = [
        ("notes.md", b"# Notes\nThe password hint is 'teapot'.", "text/markdown"),
        ("table.csv", b"city,population\nLyon,522000\n", "text/csv"),
        ("report.pdf", documents.pdf(["Quarterly revenue rose by nine percent."]), "application/pdf"),
        ("archive.zip", b"PK\x03\x04not really", "application/zip"),
    ]
    with fake_llm() as fake, _chat(server, client, user, fake, "plain-text-model") as chat:
        _send(chat, files)
    texts = "\n".join(p["text"] for p in _parts(fake) if p["type"] == "text")
    assert "The password hint is 'teapot'." in texts
    assert "city: Lyon; population: 522000" in texts
    assert "Quarterly revenue rose by nine percent." in texts
    assert "archive.zip" in texts and "cannot be shown to you" in texts


def test_a_pdf_reaches_a_model_that_takes_files_as_a_file(server, client, user):
    pdf = documents.pdf(["A file part, not text."])
    with fake_llm() as fake, _chat(server, client, user, fake, "house-model", ", inputs: [files]") as chat:
        _send(chat, [("report.pdf", pdf, "application/pdf")])
    [part] = [p for p in _parts(fake) if p["type"] == "file"]
    assert part["file"]["filename"] == "report.pdf"
    assert part["file"]["file_data"] == "data:application/pdf;base64," + base64.b64encode(pdf).decode()


def test_what_is_cut_is_said(server, client, user, tmp_path):
    from tests.conftest import ADMIN_KEY
    from tests.support.servers import start_server

    long_text = " ".join(f"word{i}" for i in range(500)).encode()
    with (
        start_server(
            server.settings.database_url,
            tmp_path,
            ADMIN_KEY,
            attachment_max_text_tokens=50,
            attachment_max_image_bytes=10,
        ) as small,
        small.sdk(ADMIN_KEY) as sdk,
    ):
        with fake_llm() as fake, _chat(small, sdk, user, fake, "llava:7b") as chat:
            _send(chat, [("long.txt", long_text, "text/plain"), ("dot.png", PNG, "image/png")])
    texts = "\n".join(p["text"] for p in _parts(fake) if p["type"] == "text")
    assert "word0" in texts and "word400" not in texts
    assert "long.txt was cut here" in texts and "first 50 of" in texts
    assert "dot.png" in texts and "over the limit of 10" in texts
    assert not [p for p in _parts(fake) if p["type"] == "image_url"]


@pytest.mark.parametrize(
    ("provider", "model", "images", "files"),
    [
        ("openai", "gpt-4.1-mini", True, True),
        ("openai", "gpt-3.5-turbo", False, False),
        ("chat_completions", "llama3.2-vision", True, False),
        ("chat_completions", "qwen2.5vl:7b", True, False),
        ("chat_completions", "llama3.2", False, False),
        ("scripted", None, False, False),
    ],
)
def test_default_model_inputs(provider, model, images, files):
    from chatkitd.knowledge.attachment_inputs import model_inputs

    assert model_inputs(provider, model) == (found := model_inputs(provider, model))
    assert (found.images, found.files) == (images, files)


GRAPH = """
id: {id}
nodes:
  - {{id: start, type: start, next: describe}}
  - id: describe
    type: agent
    instructions: Describe what the user sends.
    model: llava:7b
    provider: {{type: chat_completions, base_url: "{base_url}"}}
    next: done
  - {{id: done, type: end}}
"""


def _user_parts(fake) -> list[dict[str, Any]]:
    """Every part of every user message in the streamed chat request."""
    chat_request = [r for r in fake.requests if r["body"].get("stream")][-1]
    parts: list[dict[str, Any]] = []
    for message in chat_request["body"]["messages"]:
        if message["role"] == "user":
            content = message["content"]
            parts += content if isinstance(content, list) else [{"type": "text", "text": content}]
    return parts


NOTES = ("notes.md", b"# Notes\nThe password hint is 'teapot'.", "text/markdown")
FILES = [("dot.png", PNG, "image/png"), NOTES]


def _image_and_text_reached(parts: list[dict[str, Any]]) -> None:
    [image] = [p for p in parts if p["type"] == "image_url"]
    assert image["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    texts = "\n".join(p["text"] for p in parts if p["type"] == "text")
    assert "The password hint is 'teapot'." in texts
    assert "What is this?" in texts


def test_a_graph_agent_node_gets_the_attachments_as_its_model_reads_them(server, client, user):
    with fake_llm() as fake:
        server.run(deploy_yaml(server.platform, GRAPH.format(id="attach-graph", base_url=fake.base_url)))
        session = new_session(client, user, workflow={"id": "attach-graph"}, chatkit_configuration=UPLOADS)
        with Chat(server, session.client_secret) as chat:
            _send(chat, FILES)
    _image_and_text_reached(_user_parts(fake))


EXPORT = """
from agents import Agent, Runner, TResponseInputItem
from pydantic import BaseModel

describer = Agent(name="Describer", instructions="Describe what the user sends.", model="{model}")


class WorkflowInput(BaseModel):
    input_as_text: str


async def run_workflow(workflow_input: WorkflowInput):
    workflow = workflow_input.model_dump()
    conversation_history: list[TResponseInputItem] = [
        {{"role": "user", "content": [{{"type": "input_text", "text": workflow["input_as_text"]}}]}}
    ]
    result = await Runner.run(describer, input=[*conversation_history])
    return {{"output_text": result.final_output_as(str)}}
"""


@pytest.mark.parametrize("model", ["gpt-4.1-mini", "plain-text-model"])
def test_an_exports_agent_gets_the_attachments_as_its_model_reads_them(database_url, user, tmp_path, model):
    from chatkitd.workflows.deploy import deploy_file
    from tests.conftest import ADMIN_KEY
    from tests.support.servers import start_server

    path = tmp_path / "describe_export.py"
    path.write_text(EXPORT.format(model=model))
    with (
        fake_llm() as fake,
        start_server(database_url, tmp_path, ADMIN_KEY, model_base_url=fake.base_url) as server,
        server.sdk(ADMIN_KEY) as sdk,
    ):
        server.run(deploy_file(server.platform.workflows, "default", path, workflow_id="wf_describe"))
        session = new_session(sdk, user, workflow={"id": "wf_describe"}, chatkit_configuration=UPLOADS)
        with Chat(server, session.client_secret) as chat:
            ids = [chat.http.post("/v1/chatkit/files", files={"file": f}).json()["id"] for f in FILES]
            stream = chat.create("What is this?", attachments=ids)
            first = _user_parts(fake)
            # The next turn: the earlier message's files are in the history the agent gets.
            assert chat.say(stream.thread_id, "And now?").done_items("assistant_message")
            second = _user_parts(fake)
    if model == "plain-text-model":
        texts = "\n".join(p["text"] for p in first if p["type"] == "text")
        assert not [p for p in first if p["type"] != "text"]
        assert "dot.png" in texts and "cannot see images" in texts
        assert "The password hint is 'teapot'." in texts
        return
    _image_and_text_reached(first)
    _image_and_text_reached(second)
