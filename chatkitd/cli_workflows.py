"""``chatkitd workflows ...`` and ``chatkitd traces ...``: deploy and inspect workflows and runs.

The registry, the loader and the tracing code (which pull in the Agents SDK)
are imported inside the commands, never when the CLI starts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from chatkitd.cli_database import (
    current_settings,
    data_options,
    existing_project_id,
    location,
    when,
    with_database,
)

if TYPE_CHECKING:
    from chatkitd.settings import Settings
    from chatkitd.workflows.registry import WorkflowRegistry

T = TypeVar("T")


def _default_project() -> str:
    from chatkitd.store.keys import DEFAULT_PROJECT

    return DEFAULT_PROJECT


# Imported by cli.py too: one --project option for every command that takes one.
PROJECT = click.option(
    "--project", default=_default_project, show_default="default", help="The project, by name."
)


def _with_registry(work: Callable[[WorkflowRegistry], Awaitable[T]], settings: Settings | None = None) -> T:
    from chatkitd.workflows.registry import WorkflowRegistry

    settings = settings or current_settings()
    return with_database(lambda db: work(WorkflowRegistry(db, settings)), settings=settings)


@click.group("workflows")
def workflows_group() -> None:
    """Deploy and list workflows."""


@workflows_group.command("list")
@PROJECT
@data_options
def workflows_list(project: str) -> None:
    """Each workflow's latest version (the built-in `demo` is always there too)."""

    async def work(registry: WorkflowRegistry) -> list[Any]:
        assert registry.db is not None  # _with_registry always gives it one
        found = await existing_project_id(registry.db, project, default_may_be_missing=True)
        return await registry.latest_versions(found) if found is not None else []

    versions = _with_registry(work)
    click.echo("demo\tv1\tbuilt-in\t1 version\tOffline demo workflow")
    for version, count in versions:
        plural = "s" if count != 1 else ""
        click.echo(
            f"{version.workflow_id}\tv{version.version}\t{version.kind}\t{count} version{plural}"
            f"\t{version.name or ''}\t{when(version.created_at)}"
        )


@workflows_group.command("show")
@click.argument("workflow_id")
@PROJECT
@click.option("--version", default=None, help="A version number (default: the latest).")
@data_options
def workflows_show(workflow_id: str, project: str, version: str | None) -> None:
    """Print a workflow's versions and the definition of one (default: the latest)."""

    async def work(registry: WorkflowRegistry) -> tuple[list[Any], int | None]:
        assert registry.db is not None  # _with_registry always gives it one
        found = await existing_project_id(registry.db, project, default_may_be_missing=True)
        if found is None:
            return [], None
        # A rollback points the latest at an older version; otherwise it is the highest.
        pointed, _ = await registry.status(found, workflow_id)
        return await registry.versions(found, workflow_id), pointed

    versions, pointed = _with_registry(work)
    if not versions:
        raise click.ClickException(f"No workflow '{workflow_id}' in project '{project}'.")
    latest = str(pointed) if pointed is not None else versions[-1].version
    wanted = version if version is not None else latest
    chosen = next((v for v in versions if v.version == wanted), None)
    if chosen is None:
        raise click.ClickException(f"Workflow '{workflow_id}' has no version '{version}'.")
    for v in versions:
        marker = "*" if v is chosen else " "
        click.echo(f"{marker} v{v.version}\t{v.kind}\t{when(v.created_at)}\t{v.source_path or ''}")
    click.echo("")
    click.echo(chosen.definition.rstrip())


@workflows_group.command("deploy")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@PROJECT
@click.option(
    "--id", "workflow_id", default=None, help="The workflow a .py file (or an Agent Builder export) becomes."
)
@click.option("--version", "version", type=click.IntRange(1), default=None, help="Keep this version number.")
@data_options
def workflows_deploy(path: Path, project: str, workflow_id: str | None, version: int | None) -> None:
    """Deploy PATH (.yaml or .py) as a new version of its workflow, and make it the latest."""
    from chatkitd.errors import APIError
    from chatkitd.workflows.deploy import deploy_file

    settings = current_settings()
    try:
        deployed, _ = _with_registry(
            lambda registry: deploy_file(registry, project, path, workflow_id=workflow_id, version=version),
            settings,
        )
    except (APIError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Deployed {deployed.workflow_id} version {deployed.version} to project '{project}'.")
    click.echo(f"# in {location(settings)}", err=True)


@workflows_group.command("rollback")
@click.argument("workflow_id")
@click.argument("version")
@PROJECT
@data_options
def workflows_rollback(workflow_id: str, version: str, project: str) -> None:
    """Make VERSION the latest: sessions that name no version get it (until the next deploy)."""
    from chatkitd.errors import APIError
    from chatkitd.workflows import manage

    async def work(registry: WorkflowRegistry) -> dict[str, Any]:
        assert registry.db is not None
        found = await existing_project_id(registry.db, project)
        assert found is not None
        return await manage.rollback(registry, found, workflow_id, version)

    try:
        _with_registry(work)
    except APIError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{workflow_id} version {version} is now the latest in project '{project}'.")


@workflows_group.command("archive")
@click.argument("workflow_id")
@PROJECT
@click.option("--restore", is_flag=True, help="Take new sessions again.")
@data_options
def workflows_archive(workflow_id: str, project: str, restore: bool) -> None:
    """Refuse new sessions on a workflow (running ones go on); --restore undoes it."""
    from chatkitd.errors import APIError
    from chatkitd.workflows import manage

    async def work(registry: WorkflowRegistry) -> dict[str, Any]:
        assert registry.db is not None
        found = await existing_project_id(registry.db, project)
        assert found is not None
        return await manage.archive(registry, found, workflow_id, archived=not restore)

    try:
        _with_registry(work)
    except APIError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{workflow_id} is {'restored' if restore else 'archived'} in project '{project}'.")


@click.group("traces")
def traces_group() -> None:
    """Read recorded traces of workflow runs."""


@traces_group.command("list")
@click.option("--thread", "thread_id", default=None, help="Only this thread's traces.")
@click.option("--limit", default=20, show_default=True)
@data_options
def traces_list(thread_id: str | None, limit: int) -> None:
    """The newest traces, across projects."""
    from chatkitd.tracing import store as trace_store

    traces, _ = with_database(lambda db: trace_store.list_traces(db, None, thread_id, limit))
    for trace in traces:
        workflow = trace["workflow"]
        took = (trace["ended_at"] or trace["started_at"]) - trace["started_at"]
        click.echo(
            f"{trace['id']}\t{when(trace['started_at'])}\t{took * 1000:.0f} ms\t"
            f"{workflow['id']} v{workflow['version']}\t{trace['thread_id']}\t{trace['error'] or ''}"
        )


@traces_group.command("show")
@click.argument("trace_id")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON, as the API returns it.")
@data_options
def traces_show(trace_id: str, as_json: bool) -> None:
    """A trace's spans as a tree, with timings, token usage, errors and feedback."""
    from chatkitd.tracing import store as trace_store

    trace = with_database(lambda db: trace_store.get_trace(db, None, trace_id))
    if trace is None:
        raise click.ClickException(f"No trace '{trace_id}'.")
    if as_json:
        click.echo(json.dumps(trace, indent=2))
        return
    workflow = trace["workflow"]
    click.echo(f"trace {trace['id']}  {workflow['id']} v{workflow['version']}  thread {trace['thread_id']}")
    if trace["error"]:
        click.echo(f"error: {trace['error']}")
    children: dict[str | None, list[dict]] = {}
    for span in trace["spans"]:
        children.setdefault(span["parent_id"], []).append(span)

    def show(parent: str | None, depth: int) -> None:
        for span in children.get(parent, []):
            took = ((span["ended_at"] or 0) - (span["started_at"] or 0)) * 1000
            usage = span["data"].get("usage")
            extra = (
                f"  tokens in {usage.get('input_tokens')} out {usage.get('output_tokens')}" if usage else ""
            )
            error = f"  ERROR {span['error'].get('message')}" if span["error"] else ""
            click.echo(f"{'  ' * depth}- {span['kind']} {span['name'] or ''}  {took:.1f} ms{extra}{error}")
            show(span["id"], depth + 1)

    show(None, 1)
    for feedback in trace["feedback"]:
        click.echo(f"feedback: {feedback['kind']} on {feedback['item_id']} by {feedback['user']}")
