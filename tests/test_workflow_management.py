"""Managing workflows over the admin REST endpoints (and the CLI, which runs the same code)."""

from __future__ import annotations

import typing
import uuid
from pathlib import Path

import openai
import pytest
from click.testing import CliRunner

from chatkitd.cli import main
from tests.support.chat import Chat, new_session

TOUR = (Path(__file__).parent / "workflows_data" / "graph_tour.yaml").read_text()


def agent_yaml(workflow_id: str, text: str) -> str:
    script = f"[{{steps: [{{text: '{text}'}}]}}]"
    return f"id: {workflow_id}\nmodel: s\nprovider: {{type: scripted, script: {script}}}\n"


def body_of(error: pytest.ExceptionInfo) -> dict:
    return typing.cast(dict, error.value.body)


def deploy(client, filename, definition, **extra):
    return client.post(
        "/chatkit/admin/workflows",
        body={"filename": filename, "definition": definition, **extra},
        cast_to=object,
    )


def answer(server, client, user, workflow):
    session = new_session(client, user, workflow=workflow)
    with Chat(server, session.client_secret) as chat:
        return chat.create("hi").text(), session


def test_deploy_list_read_rollback_archive(server, client, user):
    wf = f"managed-{uuid.uuid4().hex[:8]}"
    first = deploy(client, "a.yaml", agent_yaml(wf, "first"))
    assert (first["workflow_id"], first["version"], first["kind"]) == (wf, "1", "yaml")
    deploy(client, "a.yaml", agent_yaml(wf, "second"))
    assert answer(server, client, user, {"id": wf})[0] == "second"

    listed = {w["id"]: w for w in client.get("/chatkit/admin/workflows", cast_to=object)["data"]}
    assert listed[wf]["latest"]["version"] == "2" and listed[wf]["versions"] == 2

    rolled = client.post(f"/chatkit/admin/workflows/{wf}/rollback", body={"version": 1}, cast_to=object)
    assert rolled["version"] == "1"
    assert answer(server, client, user, {"id": wf})[0] == "first"
    shown = client.get(f"/chatkit/admin/workflows/{wf}", cast_to=object)
    assert (shown["latest_version"], shown["versions"], shown["rolled_back"]) == ("1", 2, True)
    versions = client.get(f"/chatkit/admin/workflows/{wf}/versions", cast_to=object)["data"]
    assert [v["version"] for v in versions] == ["2", "1"]
    # A session that names a version still gets exactly it.
    assert answer(server, client, user, {"id": wf, "version": "2"})[0] == "second"

    _, running = answer(server, client, user, {"id": wf})
    archived = client.post(f"/chatkit/admin/workflows/{wf}/archive", body={"archived": True}, cast_to=object)
    assert archived["archived_at"] is not None
    with pytest.raises(openai.BadRequestError) as refused:
        new_session(client, user, workflow={"id": wf})
    assert refused.value.code == "workflow_archived"
    with Chat(server, running.client_secret) as chat:  # a session already running goes on
        assert chat.create("still there?").text() == "first"
    client.post(f"/chatkit/admin/workflows/{wf}/archive", body={"archived": False}, cast_to=object)
    # A new deploy is the latest again, whatever the rollback chose.
    deploy(client, "a.yaml", agent_yaml(wf, "third"))
    assert answer(server, client, user, {"id": wf})[0] == "third"


def test_a_graph_version_carries_its_diagram(client):
    deploy(client, "tour.yaml", TOUR)
    latest = client.get("/chatkit/admin/workflows/graph-tour", cast_to=object)["latest_version"]
    version = client.get(f"/chatkit/admin/workflows/graph-tour/versions/{latest}", cast_to=object)
    graph = version["graph"]
    assert graph["start"] == "start"
    assert {"id": "route", "type": "if_else", "label": "route"} in graph["nodes"]
    assert {"source": "route", "target": "approve", "label": "refund"} in graph["edges"]
    assert {"source": "guard", "target": "refuse", "label": "fail"} in graph["edges"]
    assert version["definition"] == TOUR


def test_workflows_and_versions_page_like_every_list(client):
    """``after``/``before``/``limit``/``order`` as on every other list (``paging``), newest first."""
    tag = uuid.uuid4().hex[:8]
    ids = [f"paged-{tag}-{n}" for n in range(3)]
    for wf in ids:
        deploy(client, "a.yaml", agent_yaml(wf, "x"))
    first = client.get("/chatkit/admin/workflows", options={"params": {"limit": 2}}, cast_to=object)
    assert [w["id"] for w in first["data"]] == ids[:0:-1] and first["has_more"] is True
    assert first["last_id"] == ids[1]
    after = {"limit": 1, "after": first["last_id"]}
    second = client.get("/chatkit/admin/workflows", options={"params": after}, cast_to=object)
    assert [w["id"] for w in second["data"]] == [ids[0]]
    before = {"limit": 5, "before": ids[0], "order": "desc"}
    newer = client.get("/chatkit/admin/workflows", options={"params": before}, cast_to=object)
    assert [w["id"] for w in newer["data"]][-2:] == [ids[2], ids[1]]

    # Versions in deploy order (kept numbers need not be ascending), cursors are version numbers.
    wf = ids[0]
    deploy(client, "a.yaml", agent_yaml(wf, "y"), version=7)
    deploy(client, "a.yaml", agent_yaml(wf, "z"), version=4)
    path = f"/chatkit/admin/workflows/{wf}/versions"
    page = client.get(path, options={"params": {"limit": 2}}, cast_to=object)
    assert [v["version"] for v in page["data"]] == ["4", "7"] and page["has_more"] is True
    assert (page["first_id"], page["last_id"]) == ("4", "7")
    rest = client.get(path, options={"params": {"after": "7"}}, cast_to=object)
    assert [v["version"] for v in rest["data"]] == ["1"] and rest["has_more"] is False
    ascending = client.get(path, options={"params": {"order": "asc"}}, cast_to=object)
    assert [v["version"] for v in ascending["data"]] == ["1", "7", "4"]
    shown = client.get(f"/chatkit/admin/workflows/{wf}", cast_to=object)
    assert (shown["versions"], shown["latest_version"]) == (3, "4")  # the last deploy is the latest

    for params, param in (({"limit": 101}, "limit"), ({"after": "99"}, "after"), ({"order": "up"}, "order")):
        with pytest.raises(openai.BadRequestError) as refused:
            client.get(path, options={"params": params}, cast_to=object)
        assert body_of(refused)["param"] == param
    with pytest.raises(openai.BadRequestError) as refused:
        client.get("/chatkit/admin/workflows", options={"params": {"after": "nope"}}, cast_to=object)
    assert body_of(refused)["param"] == "after"
    with pytest.raises(openai.NotFoundError) as missing:
        client.get("/chatkit/admin/workflows/nope/versions", cast_to=object)
    assert body_of(missing)["param"] == "workflow_id"


def test_version_numbers_can_be_kept(client):
    wf = f"wf_{uuid.uuid4().hex}"
    kept = deploy(client, "a.yaml", agent_yaml(wf, "v3"), version=3)
    assert kept["version"] == "3"
    with pytest.raises(openai.BadRequestError) as taken:
        deploy(client, "a.yaml", agent_yaml(wf, "again"), version=3)
    assert body_of(taken)["param"] == "version"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"filename": "x.py", "definition": "ID = 'x'\n"}, "filename"),
        ({"filename": "x.txt", "definition": "id: x"}, "filename"),
        ({"filename": "x.yaml"}, "definition"),
        ({"filename": "x.yaml", "definition": "id: x", "version": "3"}, "version"),
        ({"filename": "x.yaml", "definition": "id: x", "colour": "red"}, "colour"),
        ({"filename": "x.yaml", "definition": "id: g\nnodes: [{id: s, type: start, next: nope}]"}, "nodes.s"),
    ],
)
def test_bad_deploys_are_400s_naming_the_param(client, body, param):
    with pytest.raises(openai.BadRequestError) as refused:
        client.post("/chatkit/admin/workflows", body=body, cast_to=object)
    assert body_of(refused)["param"] == param


def test_unknown_workflows_and_versions_are_404s(client):
    with pytest.raises(openai.NotFoundError) as missing:
        client.get("/chatkit/admin/workflows/nope", cast_to=object)
    assert body_of(missing)["param"] == "workflow_id"
    deploy(client, "a.yaml", agent_yaml("versioned", "x"))
    with pytest.raises(openai.NotFoundError) as missing:
        client.post("/chatkit/admin/workflows/versioned/rollback", body={"version": 99}, cast_to=object)
    assert body_of(missing)["param"] == "version"


def test_cli_rollback_and_archive(tmp_path):
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    CliRunner().invoke(main, ["migrate"], env=env, catch_exceptions=False)
    path = tmp_path / "a.yaml"
    for text in ("one", "two"):
        path.write_text(agent_yaml("cli-managed", text))
        CliRunner().invoke(main, ["workflows", "deploy", str(path)], env=env, catch_exceptions=False)
    result = CliRunner().invoke(main, ["workflows", "rollback", "cli-managed", "1"], env=env)
    assert result.output == "cli-managed version 1 is now the latest in project 'default'.\n"
    assert (
        "cli-managed\tv1\tyaml\t2 versions" in CliRunner().invoke(main, ["workflows", "list"], env=env).output
    )
    result = CliRunner().invoke(main, ["workflows", "archive", "cli-managed"], env=env)
    assert result.output == "cli-managed is archived in project 'default'.\n"
    missing = CliRunner().invoke(main, ["workflows", "rollback", "cli-managed", "9"], env=env)
    assert missing.exit_code != 0 and "has no version '9'" in missing.output
