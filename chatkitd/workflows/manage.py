"""Managing a project's workflows: list, read, deploy, roll back, archive.

The admin REST endpoints (``chatkitd.http.workflows``) and the CLI
(``chatkitd workflows ...``) both call these, so both behave the same.
Rolling back makes an older version the latest (what a session that names
no version gets) without renumbering anything; archiving refuses new
sessions while sessions already running keep their version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatkitd import clock
from chatkitd.errors import InvalidRequest, NotFound
from chatkitd.store.paging import Window
from chatkitd.workflows.definitions import Deployable, read_deployable
from chatkitd.workflows.deploy import check_loads
from chatkitd.workflows.registry import WorkflowRegistry, WorkflowSummary, WorkflowVersion


def version_resource(version: WorkflowVersion, *, definition: bool = False) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "object": "chatkit.workflow_version",
        "workflow_id": version.workflow_id,
        "version": version.version,
        "kind": version.kind,
        "name": version.name,
        "created_at": version.created_at,
    }
    if definition:
        resource["definition"] = version.definition
        graph = graph_of(version)
        if graph is not None:
            resource["graph"] = graph
    return resource


def graph_of(version: WorkflowVersion) -> dict[str, Any] | None:
    """A graph version's nodes and labelled edges, for drawing; None for other kinds."""
    if version.kind != "yaml":
        return None
    from chatkitd.workflows.definitions import GraphDefinition, parse_yaml

    parsed = parse_yaml(version.definition)
    if not isinstance(parsed, GraphDefinition):
        return None
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for raw in parsed.nodes:
        nodes.append(
            {"id": raw.get("id"), "type": raw.get("type"), "label": raw.get("label") or raw.get("id")}
        )
    from chatkitd.workflows.graph.spec import parse_graph

    graph = parse_graph(parsed)
    for node in graph.nodes.values():
        for label, target in node.edges():
            edges.append({"source": node.id, "target": target, "label": label})
    for action, target in parsed.actions.items():
        edges.append({"source": None, "target": target, "label": f"action {action}"})
    return {"nodes": nodes, "edges": edges, "start": graph.start}


def workflow_resource(summary: WorkflowSummary) -> dict[str, Any]:
    latest = summary.latest
    return {
        "object": "chatkit.workflow",
        "id": latest.workflow_id,
        "name": latest.name,
        "latest": version_resource(latest),
        "latest_version": latest.version,
        "versions": summary.versions,
        "rolled_back": summary.pointed is not None,
        "archived_at": summary.archived_at,
    }


async def list_workflows(
    registry: WorkflowRegistry, project_id: str, window: Window
) -> tuple[list[dict[str, Any]], bool]:
    """One page of the project's workflows, each with its latest version."""
    summaries, has_more = await registry.page_workflows(project_id, window)
    return [workflow_resource(s) for s in summaries], has_more


async def get_workflow(registry: WorkflowRegistry, project_id: str, workflow_id: str) -> dict[str, Any]:
    summary = await registry.summary(project_id, workflow_id)
    if summary is None:
        raise NotFound(f"No workflow with id '{workflow_id}'.", param="workflow_id")
    return workflow_resource(summary)


async def list_versions(
    registry: WorkflowRegistry, project_id: str, workflow_id: str, window: Window
) -> tuple[list[dict[str, Any]], bool]:
    """One page of a workflow's versions, newest deploy first unless ``window`` asks otherwise."""
    versions, has_more = await registry.page_versions(project_id, workflow_id, window)
    if not versions and window.after is None and window.before is None:
        await get_workflow(registry, project_id, workflow_id)  # 404 naming an unknown workflow
    return [version_resource(v) for v in versions], has_more


async def get_version(
    registry: WorkflowRegistry, project_id: str, workflow_id: str, version: str
) -> dict[str, Any]:
    found = await registry.find_version(project_id, workflow_id, version)
    if found is not None and found.version == version:  # "01" names no version
        return version_resource(found, definition=True)
    await get_workflow(registry, project_id, workflow_id)  # 404 naming the workflow if it is unknown
    raise NotFound(f"Workflow '{workflow_id}' has no version '{version}'.", param="version")


async def deploy(
    registry: WorkflowRegistry,
    project_id: str,
    filename: str,
    text: str,
    *,
    workflow_id: str | None = None,
    version: int | None = None,
    allow_code: bool,
) -> WorkflowVersion:
    """Check and deploy a definition as the workflow's new latest version.

    ``allow_code`` is False over HTTP: Python and exported workflows run with the
    server's privileges, so they deploy only from the server's command line.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in (".yaml", ".yml", ".py"):
        raise InvalidRequest("Deploy a .yaml or .py definition.", param="filename")
    if suffix == ".py" and not allow_code:
        raise InvalidRequest(
            "Python and exported workflows run with the server's privileges: deploy them with "
            "`chatkitd workflows deploy` on the server.",
            param="filename",
            code="code_deploy_refused",
        )
    deployable = _deployable(filename, text, workflow_id)
    check_loads(deployable, registry)
    created, _ = await registry.deploy(project_id, deployable, version=version)
    return created


def _deployable(filename: str, text: str, workflow_id: str | None) -> Deployable:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(filename).name
        path.write_text(text, encoding="utf-8")
        deployable = read_deployable(path, workflow_id)
    return deployable.model_copy(update={"source_path": filename})


async def rollback(
    registry: WorkflowRegistry, project_id: str, workflow_id: str, version: str
) -> dict[str, Any]:
    """Make an older (or any existing) version the latest."""
    chosen = await get_version(registry, project_id, workflow_id, version)
    _, archived_at = await registry.status(project_id, workflow_id)
    await registry.set_status(project_id, workflow_id, latest_version=int(version), archived_at=archived_at)
    return chosen


async def archive(
    registry: WorkflowRegistry, project_id: str, workflow_id: str, archived: bool = True
) -> dict[str, Any]:
    await get_workflow(registry, project_id, workflow_id)
    pointed, _ = await registry.status(project_id, workflow_id)
    await registry.set_status(
        project_id, workflow_id, latest_version=pointed, archived_at=clock.unix() if archived else None
    )
    return await get_workflow(registry, project_id, workflow_id)
