"""A workflow's ``web_search`` tool: which back end, how many results, how long to wait."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chatkitd.tools.web_search.backends import BACKENDS, MAX_RESULTS

# `auto`: OpenAI's hosted web search when the model is on OpenAI's Responses API, else the
# server's CHATKITD_WEB_SEARCH_BACKEND. `openai`: always the hosted one.
CHOICES = ("auto", "openai", *BACKENDS)


class WebSearchConfig(BaseModel):
    """``web_search: {backend, url, api_key_env, max_results, timeout}`` in a workflow (all optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str = "auto"
    # The back end's endpoint: a SearXNG instance's base URL; Brave's and Tavily's default to theirs.
    url: str | None = None
    # The NAME of the server environment variable holding the key (Brave, Tavily).
    api_key_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    max_results: Annotated[int, Field(ge=1, le=MAX_RESULTS)] = 5
    timeout: Annotated[float, Field(gt=0, le=60)] = 10.0
    # Only results from these sites (and their subdomains) are kept.
    allowed_domains: list[str] = Field(default_factory=list)
    # OpenAI's hosted search only: how much of the pages the model reads.
    search_context_size: Literal["low", "medium", "high"] = "medium"

    @field_validator("backend")
    @classmethod
    def _known(cls, backend: str) -> str:
        if backend not in CHOICES:
            raise ValueError(f"unknown web search back end '{backend}'; choose from {', '.join(CHOICES)}")
        return backend
