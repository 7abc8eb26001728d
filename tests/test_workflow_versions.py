"""Workflow versions over HTTP: latest, pinned, unknown, and a redeploy during a live session."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from chatkitd.store import sessions as session_store
from tests.support.harness import deploy_yaml

VERSIONED = """
id: versioned-{suffix}
name: Versioned
provider:
  type: scripted
  script:
    - steps: [{{text: "{label} says {{{{ user }}}}"}}]
"""


def _error_body(error: openai.APIStatusError) -> dict[str, Any]:
    """The error envelope the server sent (the SDK types ``body`` as any object)."""
    assert isinstance(error.body, dict)
    return error.body


def deploy(server, suffix: str, label: str) -> str:
    return server.run(deploy_yaml(server.platform, VERSIONED.format(suffix=suffix, label=label)))


def resolved_version(server, session) -> str | None:
    record = server.run(session_store.get_session(server.platform.db, session.id, _project(server)))
    return record.resolved_version


def _project(server):
    from chatkitd.store.keys import ensure_project

    return server.run(ensure_project(server.platform.db, "default"))


def test_latest_pinned_and_a_redeploy_during_a_live_session(server, chat_for, user, request):
    suffix = request.node.callspec.id
    assert deploy(server, suffix, "v1") == "1"
    workflow_id = f"versioned-{suffix}"
    live = chat_for(user, workflow={"id": workflow_id})
    assert live.session.workflow.version is None
    assert resolved_version(server, live.session) == "1"
    first = live.create("hello")
    assert first.text() == "v1 says hello"

    assert deploy(server, suffix, "v2") == "2"
    # The running session keeps the version it resolved; new sessions get the latest.
    assert live.say(first.thread_id, "again").text() == "v1 says again"
    fresh = chat_for(user, workflow={"id": workflow_id})
    assert resolved_version(server, fresh.session) == "2"
    assert fresh.create("hi").text() == "v2 says hi"
    pinned = chat_for(user, workflow={"id": workflow_id, "version": "1"})
    assert pinned.session.workflow.version == "1"
    assert pinned.create("hi").text() == "v1 says hi"


@pytest.mark.parametrize(
    ("workflow", "param"),
    [
        ({"id": "no-such-workflow"}, "workflow.id"),
        ({"id": "no-such-workflow", "version": "1"}, "workflow.id"),
        ({"id": "demo", "version": "2"}, "workflow.version"),
    ],
)
def test_unknown_ids_and_versions_are_404s_naming_the_param(client, user, workflow, param):
    with pytest.raises(openai.NotFoundError) as raised:
        client.beta.chatkit.sessions.create(user=user, workflow=workflow)
    assert _error_body(raised.value)["param"] == param


def test_unknown_version_of_a_deployed_workflow(server, client, user, request):
    suffix = "unknown-" + request.node.callspec.id
    deploy(server, suffix, "v1")
    for version in ("2", "latest", "0"):
        with pytest.raises(openai.NotFoundError) as raised:
            client.beta.chatkit.sessions.create(
                user=user, workflow={"id": f"versioned-{suffix}", "version": version}
            )
        assert _error_body(raised.value)["param"] == "workflow.version"
        assert f"no version '{version}'" in _error_body(raised.value)["message"]


def test_workflows_of_another_project_are_not_found(server, client, user, request):
    suffix = "elsewhere-" + request.node.callspec.id
    server.run(deploy_yaml(server.platform, VERSIONED.format(suffix=suffix, label="x"), project="elsewhere"))
    with pytest.raises(openai.NotFoundError) as raised:
        client.beta.chatkit.sessions.create(user=user, workflow={"id": f"versioned-{suffix}"})
    assert _error_body(raised.value)["param"] == "workflow.id"


def test_concurrent_deploys_take_distinct_versions(server, request):
    import asyncio

    suffix = "race-" + request.node.callspec.id

    async def race():
        texts = [VERSIONED.format(suffix=suffix, label=f"v{i}") for i in range(4)]
        return await asyncio.gather(*(deploy_yaml(server.platform, text) for text in texts))

    assert sorted(server.run(race()), key=int) == ["1", "2", "3", "4"]


def test_the_builtin_demo_cannot_be_deployed_over(server):
    from chatkitd.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="built-in"):
        server.run(deploy_yaml(server.platform, "id: demo\n"))
