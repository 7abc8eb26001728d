"""What a workflow's ``provider:`` says, on its own: reading a workflow definition (as
``chatkitd workflows list`` does) needs no model client, so this module imports no SDK."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class ProviderDefinition(BaseModel):
    """Where the model runs (a workflow's ``provider:``). Keys are named by environment
    variable, never inlined."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["openai", "chat_completions", "scripted"] = "openai"
    base_url: str | None = None
    api_key_env: str | None = None
    # For `scripted` (offline, deterministic): a script, see chatkitd.models.scripted.
    script: list[dict[str, Any]] | None = None
    # What the models take as they are (`images`, `files`); unset: known by model name.
    inputs: list[Literal["images", "files"]] | None = None
