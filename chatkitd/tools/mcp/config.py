"""An MCP server as a workflow names it: where it is, what it may run, and what needs approval.

Secrets never sit in a workflow file: a header (or a stdio server's
environment variable) whose value is ``env:NAME`` takes the value of the
server's environment variable ``NAME`` when the connection opens, so the
secret is not stored with the workflow nor written to a trace. A credential
header (``Authorization``, ``X-Api-Key``...) or variable written out in a
YAML workflow is refused at deploy. (A Python workflow's ``HostedMCPTool``
is taken as it comes: its code may have read the value from the
environment itself.)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

Policy = Literal["always", "never"]
_ENV = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
# Header and variable names that carry a credential: their values come from the environment.
_CREDENTIAL = re.compile(r"auth|key|token|secret|passw|cookie|credential|session", re.IGNORECASE)
# model_validate(..., context=LITERAL_CREDENTIALS): values already read by code (HostedMCPTool).
LITERAL_CREDENTIALS = {"literal_credentials": True}


class McpConfigError(RuntimeError):
    """The server cannot be reached as configured (say, an ``env:`` variable is unset)."""


class ToolNames(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tool_names: list[str] = Field(default_factory=list)


class ApprovalLists(BaseModel):
    """OpenAI's object form: ``{always: {tool_names: [...]}, never: {tool_names: [...]}}``."""

    model_config = ConfigDict(extra="forbid")
    always: ToolNames | None = None
    never: ToolNames | None = None


class McpToolConfig(BaseModel):
    """``mcp: {server_label, url, headers, allowed_tools, require_approval, timeout}`` in a workflow."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server_label: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    url: str | None = None
    # Default: stdio with `command`, SSE for a URL ending in /sse, else streamable HTTP.
    transport: Literal["streamable_http", "sse", "stdio"] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # stdio (local development): the server's command line, environment and folder.
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    # Only these tools are listed to the model and may be called; None allows all.
    allowed_tools: list[str] | None = None
    # As OpenAI's hosted MCP tool: approval unless told otherwise.
    require_approval: Policy | dict[str, Policy] | ApprovalLists = "always"
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    # The tool list is fetched again once it is this old.
    tools_cache_seconds: Annotated[float, Field(ge=0, le=86400)] = 300.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("headers", "env")
    @classmethod
    def _references(cls, values: dict[str, str]) -> dict[str, str]:
        for name, value in values.items():
            if value.startswith("env:") and not _ENV.match(value):
                raise ValueError(f"'{name}': an `env:` value names one variable, like env:CRM_TOKEN")
        return values

    @model_validator(mode="after")
    def _no_written_credentials(self, info: ValidationInfo) -> McpToolConfig:
        if (info.context or {}).get("literal_credentials"):
            return self
        for where, values in (("headers", self.headers), ("env", self.env)):
            for name, value in values.items():
                if _CREDENTIAL.search(name) and not _ENV.match(value):
                    raise ValueError(
                        f"{where} '{name}' carries a credential: write `env:NAME` and set NAME in the "
                        "server's environment; a secret never sits in a workflow file"
                    )
        return self

    @model_validator(mode="after")
    def _where(self) -> McpToolConfig:
        if (self.url is None) == (self.command is None):
            raise ValueError("an MCP server sets exactly one of `url` or `command` (stdio)")
        if (self.transport == "stdio") != (self.command is not None) and self.transport is not None:
            raise ValueError("`transport: stdio` goes with `command`; the HTTP transports with `url`")
        return self

    @property
    def resolved_transport(self) -> str:
        if self.transport is not None:
            return self.transport
        if self.command is not None:
            return "stdio"
        assert self.url is not None
        return "sse" if urlsplit(self.url).path.rstrip("/").endswith("/sse") else "streamable_http"

    def resolved_headers(self) -> dict[str, str]:
        return _resolve(self.headers, "header")

    def resolved_env(self) -> dict[str, str]:
        return _resolve(self.env, "environment variable")

    def redact(self, text: str) -> str:
        """``text`` without the secrets this configuration reaches: header values (written or
        from ``env:``), stdio ``env:`` values, and any credentials or query in the URL."""
        for value in [*_secrets(self.headers, literal=True), *_secrets(self.env, literal=False)]:
            text = text.replace(value, "[redacted]")
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.query or parts.username or parts.password:
                text = text.replace(self.url, f"{parts.scheme}://{parts.hostname}{parts.path}")
        return text

    def needs_approval(self, tool_name: str) -> bool:
        """Whether a call to ``tool_name`` waits for a person, as the Agents SDK reads
        ``require_approval``: a tool that a per-tool policy does not name runs without asking."""
        policy = self.require_approval
        if isinstance(policy, str):
            return policy == "always"
        if isinstance(policy, ApprovalLists):
            return policy.always is not None and tool_name in policy.always.tool_names
        return policy.get(tool_name) == "always"

    def sdk_require_approval(self) -> Any:
        """The policy in the form the Agents SDK's MCP servers take."""
        policy = self.require_approval
        return policy.model_dump(exclude_none=True) if isinstance(policy, ApprovalLists) else policy


def _resolve(values: Mapping[str, str], what: str) -> dict[str, str]:
    resolved = {}
    for name, value in values.items():
        match = _ENV.match(value)
        if match is None:
            resolved[name] = value
            continue
        found = os.environ.get(match.group(1))
        if found is None:
            raise McpConfigError(
                f"the server's environment variable {match.group(1)} (for {what} {name}) is not set"
            )
        resolved[name] = found
    return resolved


def _secrets(values: Mapping[str, str], *, literal: bool) -> list[str]:
    found = []
    for value in values.values():
        match = _ENV.match(value)
        secret = os.environ.get(match.group(1)) if match else (value if literal else None)
        if secret and len(secret) >= 4:
            found.append(secret)
    return found


def config_from_hosted(tool_config: Mapping[str, Any]) -> McpToolConfig:
    """The configuration of an Agents SDK ``HostedMCPTool`` (its ``tool_config``), for this client.

    ``authorization`` becomes a bearer ``Authorization`` header. Connectors
    (``connector_id``) exist only on OpenAI's side and are refused here.
    """
    if tool_config.get("connector_id"):
        raise ValueError(
            f"MCP connector '{tool_config['connector_id']}' runs only on OpenAI's Responses API; "
            "give the server's URL instead"
        )
    headers = dict(tool_config.get("headers") or {})
    if tool_config.get("authorization"):
        headers.setdefault("Authorization", f"Bearer {tool_config['authorization']}")
    allowed = tool_config.get("allowed_tools")
    if isinstance(allowed, Mapping):
        allowed = list(allowed.get("tool_names") or [])
    return McpToolConfig.model_validate(
        {
            "server_label": tool_config["server_label"],
            "url": tool_config.get("server_url"),
            "headers": headers,
            "allowed_tools": allowed,
            "require_approval": tool_config.get("require_approval") or "always",
        },
        context=LITERAL_CREDENTIALS,
    )
