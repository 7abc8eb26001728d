"""Model servers as operators meet them, over real HTTP against a fake OpenAI-compatible server:
the README's Ollama recipe as written, the model map, and failures (unknown model, no server,
refused key) that reach the user as a clear message and the log as one line."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from openai import OpenAI

from chatkitd.workflows.deploy import deploy_file
from tests.conftest import ADMIN_KEY
from tests.support.chat import Chat, new_session
from tests.support.fake_llm import fake_llm
from tests.support.harness import deploy_yaml
from tests.support.processes import serve_process
from tests.support.servers import free_port, start_server

ROOT = Path(__file__).parents[1]
OLLAMA = "http://127.0.0.1:11434/v1"


def recipe() -> list[str]:
    """The shell lines of the README's Ollama recipe, as a reader copies them."""
    models = (ROOT / "README.md").read_text().split("\n## Models\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", models, re.S)
    assert block is not None, "the Models section has no shell recipe"
    return [line.split("#")[0].strip() for line in block.group(1).strip().splitlines()]


def test_the_readme_ollama_recipe_works_as_written(tmp_path):
    lines = recipe()
    [serve] = [shlex.split(line) for line in lines if line.endswith("chatkitd serve")]
    [deploy] = [shlex.split(line) for line in lines if line.startswith("chatkitd workflows deploy")]
    settings = dict(word.split("=", 1) for word in serve[:-2])
    assert settings == {"CHATKITD_MODEL_BASE_URL": OLLAMA, "CHATKITD_MODEL": "llama3.2"}
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'chatkitd.db'}"
    with fake_llm(models={"llama3.2"}) as llm:  # like Ollama after `ollama pull llama3.2`
        settings["CHATKITD_MODEL_BASE_URL"] = llm.base_url
        with serve_process(database_url, tmp_path, ADMIN_KEY, **settings) as base_url:
            environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")}
            environment["CHATKITD_DATABASE_URL"] = database_url
            chatkitd = str(Path(sys.executable).with_name("chatkitd"))
            deployed = subprocess.run(
                [chatkitd, *deploy[1:]], cwd=ROOT, env=environment, capture_output=True, text=True
            )
            assert deployed.returncode == 0, deployed.stderr
            server = SimpleNamespace(base_url=base_url)
            with OpenAI(base_url=f"{base_url}/v1", api_key=ADMIN_KEY, max_retries=0) as sdk:
                state = {"customer_name": "Ada", "plan": "pro"}
                session = new_session(
                    sdk, "recipe-user", workflow={"id": "support-agent", "state_variables": state}
                )
            with Chat(server, session.client_secret) as chat:  # type: ignore[arg-type]
                stream = chat.create("hello")
                assert stream.of("error") == []
                assert stream.text() == "Echo: hello "
    # The workflow names gpt-4.1-mini; the recipe's model is what ran (answer and title alike).
    assert set(llm.models_asked) == {"llama3.2"}


@pytest.fixture(scope="module")
def mapped_llm():
    with fake_llm(models={"llama3.2", "big-model"}) as llm:
        yield llm


@pytest.fixture(scope="module")
def mapped_server(tmp_path_factory, mapped_llm):
    data_dir = tmp_path_factory.mktemp("mapped")
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    with start_server(
        url,
        data_dir,
        ADMIN_KEY,
        model_base_url=mapped_llm.base_url,
        model="llama3.2",
        model_map={"gpt-4.1": "big-model"},
    ) as running:
        running.run(deploy_file(running.platform.workflows, "default", ROOT / "examples" / "python_agent.py"))
        yield running


def test_the_model_map_decides_what_runs_for_each_name(mapped_server, mapped_llm):
    with mapped_server.sdk(ADMIN_KEY) as sdk:
        session = new_session(sdk, "mapped-user", workflow={"id": "python-agent"})
    with Chat(mapped_server, session.client_secret) as chat:
        mapped_llm.requests.clear()
        assert chat.create("hi").text() == "Echo: hi "
        assert mapped_llm.models_asked[0] == "llama3.2"  # gpt-4.1-mini is not in the map
        mapped_llm.requests.clear()
        picked = chat.create("hi again", inference_options={"model": "gpt-4.1"})
        assert picked.text() == "Echo: hi again "
        assert mapped_llm.models_asked[0] == "big-model"
        # The user still picks among the workflow's own names.
        refused = chat.create("hi", inference_options={"model": "big-model"})
        assert "not available in workflow 'python-agent'" in refused.of("error")[0]["message"]


FAILING = """
id: {id}
model: gpt-4.1-mini
provider:
  type: chat_completions
  base_url: {base_url}
  api_key_env: FAILING_LLM_KEY
"""


@pytest.fixture
def failing_workflow(server, chat_for, request, monkeypatch):
    """``failing_workflow(base_url)``: a chat on a workflow whose model server is at ``base_url``."""
    monkeypatch.setenv("FAILING_LLM_KEY", "sk-do-not-show-this-key")

    def make(base_url: str, name: str):
        workflow_id = f"{name}-{request.node.callspec.id}"
        server.run(deploy_yaml(server.platform, FAILING.format(id=workflow_id, base_url=base_url)))
        return workflow_id, chat_for("failing-user", workflow={"id": workflow_id})

    return make


OUR_LOGGERS = {"chatkitd", "chatkit", "agents", "openai", "openai.agents", "httpx2", "uvicorn"}


def one_clear_failure(caplog, workflow_id: str, chat, stream, provider: str = "chat_completions") -> str:
    """The single log line the failure left; it names what an operator needs, with no traceback."""
    # What the request logged (asyncio's garbage-collector notes about other tests' tasks aside).
    ours = [r for r in caplog.records if r.name.split(".")[0] in OUR_LOGGERS]
    errors = [r for r in ours if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    [record] = errors
    line = record.getMessage()
    assert record.exc_info is None and record.exc_text is None
    assert not any(r.exc_info for r in ours)  # no traceback anywhere
    for expected in (
        f"workflow={workflow_id} version=1",
        f"provider={provider}",
        "model=gpt-4.1-mini",
        f"thread={stream.thread_id}",
        f"session={chat.session.id}",
    ):
        assert expected in line, line
    everything = "\n".join(r.getMessage() for r in caplog.records) + str(stream.events)
    assert "sk-do-not-show-this-key" not in everything
    assert stream.done_items("user_message")  # the user's message is kept
    return line


def test_an_unknown_model_is_a_clear_error_and_one_log_line(failing_workflow, caplog):
    with fake_llm(models={"llama3.2"}) as llm:
        workflow_id, chat = failing_workflow(llm.base_url, "unknown-model")
        with caplog.at_level(logging.INFO):
            stream = chat.create("hello")
    [error] = stream.of("error")
    assert error["message"] == "This assistant's model is not available on its model server."
    assert error["allow_retry"] is False
    assert llm.base_url not in error["message"]
    line = one_clear_failure(caplog, workflow_id, chat, stream)
    assert f"endpoint={llm.base_url}" in line
    assert 'HTTP 404 from the model server: model "gpt-4.1-mini" not found' in line


def test_an_unreachable_model_server_is_a_clear_retryable_error(failing_workflow, caplog):
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    workflow_id, chat = failing_workflow(nowhere, "unreachable")
    with caplog.at_level(logging.INFO):
        stream = chat.create("hello")
    [error] = stream.of("error")
    assert (
        error["message"]
        == "This assistant's model server cannot be reached right now. Try again in a moment."
    )
    assert error["allow_retry"] is True
    line = one_clear_failure(caplog, workflow_id, chat, stream)
    assert f"endpoint={nowhere}" in line and "cannot connect to the model server" in line


def test_a_refused_key_is_a_clear_error_that_shows_no_key(failing_workflow, caplog):
    with fake_llm(key="sk-the-right-key") as llm:
        workflow_id, chat = failing_workflow(llm.base_url, "refused-key")
        with caplog.at_level(logging.INFO):
            stream = chat.create("hello")
    [error] = stream.of("error")
    assert error["message"] == "This assistant's model server refused its credentials."
    line = one_clear_failure(caplog, workflow_id, chat, stream)
    assert "HTTP 401" in line


EXPORT = ROOT / "tests" / "workflows_data" / "agent_builder_export.py"


def export_chat(server, chat_for, name: str):
    """A chat on the Agent Builder export, deployed under ``name``, on the server's own model settings."""
    server.run(deploy_file(server.platform.workflows, "default", EXPORT, workflow_id=name))
    return chat_for("export-user", workflow={"id": name})


def test_an_export_with_no_openai_key_says_its_model_is_not_available(server, chat_for, caplog, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    chat = export_chat(server, chat_for, "wf_no_key")
    with caplog.at_level(logging.INFO):
        stream = chat.create("Where is my invoice?")
    [error] = stream.of("error")
    assert error["message"] == "This assistant's model is not available right now."
    line = one_clear_failure(caplog, "wf_no_key", chat, stream, provider="openai")
    assert "OPENAI_API_KEY" in line


TINY_GRAPH = """
id: {id}
model: gpt-4.1-mini
nodes:
  - {{id: start, type: start, next: answer}}
  - {{id: answer, type: agent, instructions: Answer briefly., next: done}}
  - {{id: done, type: end}}
"""


def deploy_export(server, workflow_id: str) -> None:
    server.run(deploy_file(server.platform.workflows, "default", EXPORT, workflow_id=workflow_id))


def deploy_tiny_graph(server, workflow_id: str) -> None:
    server.run(deploy_yaml(server.platform, TINY_GRAPH.format(id=workflow_id)))


@pytest.mark.parametrize("deploy", [deploy_export, deploy_tiny_graph], ids=["export", "graph"])
def test_an_unknown_model_on_the_servers_model_settings_is_the_same_clear_error(
    deploy, database_url, tmp_path, caplog
):
    """Exports and graphs run on the server's model settings: a model Ollama lacks fails as any
    workflow's does, with the same message and one log line."""
    workflow_id = f"wf_unknown_model_{deploy.__name__}"  # the suite's databases are shared
    with (
        fake_llm(models={"llama3.2"}) as llm,
        start_server(database_url, tmp_path, ADMIN_KEY, model_base_url=llm.base_url) as server,
        server.sdk(ADMIN_KEY) as sdk,
    ):
        deploy(server, workflow_id)
        session = new_session(sdk, "a-user", workflow={"id": workflow_id})
        with Chat(server, session.client_secret) as chat, caplog.at_level(logging.INFO):
            chat.session = session
            stream = chat.create("Where is my invoice?")
    [error] = stream.of("error")
    assert error["message"] == "This assistant's model is not available on its model server."
    assert error["allow_retry"] is False
    line = one_clear_failure(caplog, workflow_id, chat, stream)
    assert f"endpoint={llm.base_url}" in line and "HTTP 404" in line


def test_a_silent_model_server_times_out_as_a_clear_retryable_error(database_url, tmp_path, caplog):
    """A server that takes the call and says nothing (a model still loading, a hung gateway) ends the
    turn after CHATKITD_MODEL_TIMEOUT, not after the client library's ten minutes, tried twice."""
    workflow_id = "silent-model"
    with (
        fake_llm(delay=4) as llm,
        start_server(
            database_url, tmp_path, ADMIN_KEY, model_base_url=llm.base_url, model_timeout=0.5
        ) as server,
        server.sdk(ADMIN_KEY) as sdk,
    ):
        server.run(deploy_yaml(server.platform, f"id: {workflow_id}\nmodel: gpt-4.1-mini\n"))
        session = new_session(sdk, "a-user", workflow={"id": workflow_id})
        with Chat(server, session.client_secret) as chat, caplog.at_level(logging.INFO):
            chat.session = session
            stream = chat.create(
                "hello"
            )  # the fake would answer after 4 s: an error means it was not awaited
    [error] = stream.of("error")
    assert error["message"] == "This assistant's model server did not answer in time. Try again in a moment."
    assert error["allow_retry"] is True
    line = one_clear_failure(caplog, workflow_id, chat, stream)
    assert f"endpoint={llm.base_url}" in line and "the model server timed out" in line


SUBCLASS = """
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadItemDoneEvent
from openai import AsyncOpenAI

from chatkitd import clock
from chatkitd.workflows.base import Workflow

ID = "{id}"


class OwnModelCall(Workflow):
    async def respond(self, thread, item, context, store):
        client = AsyncOpenAI(base_url="{base_url}", api_key="sk-do-not-show-this-key", max_retries=0)
        async with client:
            answer = await client.chat.completions.create(
                model="gpt-4.1-mini", messages=[{{"role": "user", "content": "hi"}}]
            )
        yield ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=clock.now(),
                content=[AssistantMessageContent(text=answer.choices[0].message.content or "")],
            )
        )


WORKFLOW = OwnModelCall
"""


@pytest.mark.parametrize("failure", ["unknown-model", "unreachable"])
def test_a_workflow_subclass_s_own_model_call_fails_as_clearly(failure, server, chat_for, tmp_path, caplog):
    """A ``Workflow`` subclass calling a model itself got chatkit's "An error occurred" and a
    traceback: its failure is the same clear error and one line, named from the failed call."""
    workflow_id = f"own-model-call-{failure}"
    with contextlib.ExitStack() as stack:
        if failure == "unknown-model":
            base_url = stack.enter_context(fake_llm(models={"llama3.2"})).base_url
        else:
            base_url = f"http://127.0.0.1:{free_port()}/v1"
        source = tmp_path / "own_model_call.py"
        source.write_text(SUBCLASS.format(id=workflow_id, base_url=base_url))
        server.run(deploy_file(server.platform.workflows, "default", source))
        chat = chat_for("subclass-user", workflow={"id": workflow_id})
        with caplog.at_level(logging.INFO):
            stream = chat.create("hello")
    [error] = stream.of("error")
    expected = {
        "unknown-model": "This assistant's model is not available on its model server.",
        "unreachable": "This assistant's model server cannot be reached right now. Try again in a moment.",
    }
    assert error["message"] == expected[failure]
    line = one_clear_failure(caplog, workflow_id, chat, stream)
    assert f"endpoint={base_url}" in line
