"""Workflow definitions: what an operator deploys, parsed and validated.

Two kinds of file deploy:

- ``.yaml`` / ``.yml``: a declarative agent (``AgentDefinition``), or a YAML
  that names a Python factory by import path (``factory: pkg.module:attr``).
- ``.py``: a Python module whose *source* is stored with the version, so a
  later redeploy never changes what an older version runs. It sets ``ID``
  (and optionally ``NAME``) and defines ``build_agent(run)`` returning an
  ``agents.Agent``, or a ``WORKFLOW`` class subclassing ``Workflow``.

Parsing never runs the Python; ``chatkitd.workflows.loader`` does that.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from chatkitd.errors import InvalidRequest
from chatkitd.models.definition import ProviderDefinition
from chatkitd.tools.mcp.config import McpToolConfig
from chatkitd.tools.web_search.config import WebSearchConfig

WORKFLOW_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClientToolDefinition(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


PythonPath = Annotated[str, Field(pattern=r"^[\w.]+:[\w.]+$")]


class FileSearchConfig(_Strict):
    """``file_search``: search chatkitd's vector stores (``chatkitd.knowledge``)."""

    vector_store_ids: Annotated[list[str], Field(min_length=1)]
    max_num_results: Annotated[int, Field(ge=1, le=50)] | None = None


class ThreadUploadsConfig(_Strict):
    """``thread_uploads``: what becomes of documents attached in the chat.

    With ``index: true``, each document (text, Markdown, PDF, Word, CSV, ...) is
    indexed into a vector store of the thread alone and searched with
    ``file_search`` instead of pasted whole into the prompt
    (``chatkitd.knowledge.thread_uploads``). ``max_num_results`` is for the
    ``file_search`` tool added when the agent lists none; a listed one searches
    the thread's uploads beside its own stores, with its own limit. A Python
    workflow (or a YAML ``factory:``) sets it as ``THREAD_UPLOADS`` (or here),
    and its agent's ``FileSearchTool`` searches the uploads.
    """

    index: bool = False
    max_num_results: Annotated[int, Field(ge=1, le=50)] | None = None


# YAML tool kinds: the key a tool sets, and what its value must be. Each kind has its
# builder in ``chatkitd.workflows.tools.TOOL_BUILDERS``; a test fails when a kind here
# has no builder, or no test.
TOOL_KINDS: dict[str, Any] = {
    "builtin": str,  # one of chatkitd's built-in tools, by name
    "python": PythonPath,  # an importable agents.FunctionTool (or plain function)
    "mcp": McpToolConfig,  # an MCP server's tools (chatkitd.tools.mcp)
    "web_search": WebSearchConfig,  # web search with citations (chatkitd.tools.web_search)
    "file_search": FileSearchConfig,  # the project's vector stores (chatkitd.knowledge.tool)
}


class ToolDefinition(_Strict):
    """A server tool: exactly one kind key (``builtin: close_thread``, ``mcp: {...}``, ...).

    ``require_approval: always`` makes a person approve each call in the chat
    (an MCP server's policy sits in its own ``require_approval``).
    """

    kind: str
    config: Any
    require_approval: Literal["always", "never"] = "never"

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or "kind" in raw:
            return raw
        kinds = [key for key in raw if key in TOOL_KINDS]
        if len(kinds) != 1:
            unknown = sorted(set(raw) - set(TOOL_KINDS) - {"require_approval"})
            hint = f" (unknown: {', '.join(unknown)})" if unknown else ""
            raise ValueError(f"a tool sets exactly one of {', '.join(f'`{k}`' for k in TOOL_KINDS)}{hint}")
        kind = kinds[0]
        try:
            config = TypeAdapter(TOOL_KINDS[kind]).validate_python(raw[kind])
        except ValidationError as error:
            # Re-raised under the tool's key, so the message names `tools.0.mcp.url`.
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(
                        type=e["type"], loc=(kind, *e["loc"]), input=e["input"], ctx=e.get("ctx", {})
                    )
                    for e in error.errors()
                ],
            ) from None
        rest = {key: value for key, value in raw.items() if key != kind}
        return {"kind": kind, "config": config, **rest}


class AgentAction(_Strict):
    """What a widget action (``threads.custom_action``) of this type does in an agent workflow.

    With ``tool``, that server tool runs with the action's payload as its
    arguments (the click is the user's consent: no approval card), and the
    agent answers knowing its result; without, the agent answers knowing which
    action the user took and its payload. ``threads.sync_custom_action`` runs
    the tool only, without the agent.
    """

    tool: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


class AgentDefinition(_Strict):
    """A declarative agent workflow (the YAML form)."""

    id: Annotated[str, Field(pattern=WORKFLOW_ID)]
    name: str | None = None
    instructions: str = ""
    model: str | None = None
    allowed_models: list[str] = Field(default_factory=list)
    model_settings: dict[str, Any] = Field(default_factory=dict)
    provider: ProviderDefinition | None = None
    tools: list[ToolDefinition] = Field(default_factory=list)
    client_tools: list[ClientToolDefinition] = Field(default_factory=list)
    # Instead of the fields above: `pkg.module:attr` returning an Agent (or a Workflow class).
    factory: Annotated[str, Field(pattern=r"^[\w.]+:[\w.]+$")] | None = None
    max_turns: Annotated[int, Field(ge=1, le=100)] = 10
    # Widget action types this agent handles (`threads.custom_action`): see AgentAction.
    actions: dict[str, AgentAction] = Field(default_factory=dict)
    # Documents attached in the chat: pasted (the default) or indexed and searched.
    thread_uploads: ThreadUploadsConfig = Field(default_factory=ThreadUploadsConfig)

    @property
    def models(self) -> list[str]:
        """Models a user may pick with ``inference_options.model``; the default comes first."""
        picks = [self.model] if self.model else []
        return picks + [m for m in self.allowed_models if m not in picks]


class GraphDefinition(BaseModel):
    """A graph workflow (the YAML form with ``nodes``); ``chatkitd.workflows.graph.spec`` checks the nodes."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(pattern=WORKFLOW_ID)]
    name: str | None = None
    description: str = ""
    model: str | None = None
    allowed_models: list[str] = Field(default_factory=list)
    provider: ProviderDefinition | None = None
    max_steps: int = Field(default=200, ge=1, le=10_000)
    # Widget action types that start the graph at a node (`input` is the action's payload).
    actions: dict[str, str] = Field(default_factory=dict)
    nodes: list[dict[str, Any]] = Field(min_length=1)

    @property
    def models(self) -> list[str]:
        picks = [self.model] if self.model else []
        return picks + [m for m in self.allowed_models if m not in picks]


class Deployable(BaseModel):
    """A parsed file, ready to become a new version."""

    id: str
    name: str | None
    kind: Literal["yaml", "python", "export"]
    definition: str
    source_path: str | None = None


def parse_yaml(text: str) -> Any:
    """An ``AgentDefinition``, or a ``GraphDefinition`` when the file has ``nodes``."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidRequest(
            f"Workflow YAML does not parse: {_yaml_problem(error)}", param="definition"
        ) from None
    if not isinstance(raw, dict):
        raise InvalidRequest("Workflow YAML must be a mapping.", param="definition")
    model: type[BaseModel] = GraphDefinition if "nodes" in raw else AgentDefinition
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "definition"
        raise InvalidRequest(f"Invalid workflow definition: {where}: {first['msg']}", param=where) from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's error in one line: where, then what (its own text quotes the source over lines)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        what = " ".join(part for part in (error.context, error.problem) if part)
        return f"line {mark.line + 1}, column {mark.column + 1}: {what}"
    return " ".join(str(error).split())


def python_module_id(source: str) -> tuple[str, str | None]:
    """``ID`` and ``NAME`` assigned as string literals at a module's top level, read without running it."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise InvalidRequest(f"Python workflow does not parse: {error}", param="definition") from None
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant):
                if isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    workflow_id = found.get("ID")
    if not workflow_id or not re.match(WORKFLOW_ID, workflow_id):
        raise InvalidRequest("A Python workflow sets ID = '<workflow id>' at module level.", param="ID")
    return workflow_id, found.get("NAME")


def agent_builder_export(source: str) -> tuple[bool, str | None]:
    """Whether a module has an Agent Builder export's shape, and the ``workflow_id`` it names, if any.

    The shape: ``class WorkflowInput`` and ``async def run_workflow``; the id is
    the ``"workflow_id": "wf_..."`` an export writes into its RunConfig's trace metadata.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise InvalidRequest(f"Python workflow does not parse: {error}", param="definition") from None
    has_input = any(isinstance(n, ast.ClassDef) and n.name == "WorkflowInput" for n in tree.body)
    has_run = any(isinstance(n, ast.AsyncFunctionDef) and n.name == "run_workflow" for n in tree.body)
    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "workflow_id"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    found = value.value
    return has_input and has_run, found


def read_deployable(path: Path, workflow_id: str | None = None) -> Deployable:
    """Parse a definition file; invalid files raise InvalidRequest naming what is wrong.

    ``workflow_id`` (``--id``) names the workflow a Python file or an Agent
    Builder export becomes; a YAML file names its own.
    """
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if workflow_id is not None and not re.match(WORKFLOW_ID, workflow_id):
        raise InvalidRequest(f"Invalid workflow id '{workflow_id}'.", param="id")
    if suffix in (".yaml", ".yml"):
        agent = parse_yaml(text)
        if workflow_id is not None and workflow_id != agent.id:
            raise InvalidRequest(f"{path.name} is workflow '{agent.id}'; --id cannot rename it.", param="id")
        return Deployable(id=agent.id, name=agent.name, kind="yaml", definition=text, source_path=str(path))
    if suffix == ".py":
        is_export, exported_id = agent_builder_export(text)
        if is_export:
            chosen = workflow_id or exported_id
            if chosen is None or not re.match(WORKFLOW_ID, chosen):
                raise InvalidRequest(
                    f"{path.name} is an Agent Builder export: name its workflow with --id wf_...", param="id"
                )
            return Deployable(id=chosen, name=None, kind="export", definition=text, source_path=str(path))
        if workflow_id is not None:
            _, name = python_module_id(text) if "ID" in text else (None, None)
            return Deployable(
                id=workflow_id, name=name, kind="python", definition=text, source_path=str(path)
            )
        module_id, name = python_module_id(text)
        return Deployable(id=module_id, name=name, kind="python", definition=text, source_path=str(path))
    raise InvalidRequest(f"Cannot deploy '{path.name}': use a .yaml or .py file.", param="path")


def definition_files(folder: Path) -> list[Path]:
    """The deployable files in a folder, in a stable order."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml", ".py"))
