"""``CHATKITD_WORKFLOWS_DIR``: deployed at serve start, and only what changed gets a new version."""

from __future__ import annotations

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
