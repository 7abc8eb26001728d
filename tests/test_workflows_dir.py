"""``CHATKITD_WORKFLOWS_DIR``: deployed at serve start, and only what changed gets a new version."""

from __future__ import annotations

import logging
from pathlib import Path

from tests.conftest import ADMIN_KEY
from tests.support.servers import start_server

ROOT = Path(__file__).parents[1]


def test_the_folder_is_deployed_at_start_and_redeployed_only_when_changed(tmp_path):
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "support-agent.yaml").write_text((ROOT / "examples" / "support-agent.yaml").read_text())
    (folder / "notes.txt").write_text("not a workflow")
    (folder / "broken.yaml").write_text("id: broken\nmodel: [1]\n")  # logged and skipped
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'chatkitd.db'}"

    def versions_after_start() -> list[str]:
        with start_server(database_url, tmp_path / "data", ADMIN_KEY, workflows_dir=folder) as server:
            session = server.sdk(ADMIN_KEY).beta.chatkit.sessions.create(
                user="u1", workflow={"id": "support-agent"}
            )
            assert session.workflow.id == "support-agent"
            registry = server.platform.workflows
            project_id = server.platform._env_key_project
            assert project_id is not None  # started with an admin key
            project = server.run(registry.latest_versions(project_id))
            return [f"{v.workflow_id}@{v.version}" for v, _ in project]

    assert versions_after_start() == ["support-agent@1"]
    assert versions_after_start() == ["support-agent@1"]
    path = folder / "support-agent.yaml"
    path.write_text(path.read_text().replace("temperature: 0.3", "temperature: 0.5"))
    assert versions_after_start() == ["support-agent@2"]


def test_a_file_that_cannot_deploy_is_one_line_naming_the_setting_and_the_file(tmp_path, caplog):
    """A broken file never keeps the server down, and the operator reads one line saying which file,
    where and why (a YAML error was PyYAML's several lines quoting the source)."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "unclosed.yaml").write_text("id: unclosed\ninstructions: [\n")
    (folder / "extra.yaml").write_text("id: extra\nmodel: gpt-4.1-mini\ncolour: blue\n")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'chatkitd.db'}"
    with (
        caplog.at_level(logging.ERROR, logger="chatkitd.workflows.deploy"),
        start_server(database_url, tmp_path / "data", ADMIN_KEY, workflows_dir=folder),
    ):
        pass
    lines = sorted(r.getMessage() for r in caplog.records if r.name == "chatkitd.workflows.deploy")
    assert lines == [
        f"CHATKITD_WORKFLOWS_DIR: not deploying {folder / 'extra.yaml'}: "
        "Invalid workflow definition: colour: Extra inputs are not permitted",
        f"CHATKITD_WORKFLOWS_DIR: not deploying {folder / 'unclosed.yaml'}: Workflow YAML does not "
        "parse: line 3, column 1: while parsing a flow node expected the node content, but found "
        "'<stream end>'",
    ], lines
    assert not [r for r in caplog.records if r.exc_info]
