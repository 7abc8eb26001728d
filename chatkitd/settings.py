"""Every setting chatkitd reads, in one typed object built from the environment.

Each field maps to a ``CHATKITD_*`` variable; the README documents them in one
table, and a test keeps that table and this class in step.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """chatkitd's configuration. Defaults give a working embedded server."""

    model_config = SettingsConfigDict(env_prefix="CHATKITD_", extra="ignore")

    data_dir: Path = Field(Path(".chatkitd"), description="Where SQLite and uploaded files live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL. Default: SQLite file in the data dir."
    )
    database_pool_size: int = Field(
        10,
        ge=2,
        description="Most PostgreSQL connections one process opens: a third for reads, the rest for writes.",
    )
    database_transaction_pooling: bool = Field(
        False,
        description="Set when the database URL points at a pooler in transaction mode (PgBouncer's "
        "`pool_mode = transaction`): no statement is kept prepared across transactions.",
    )
    api_key: SecretStr | None = Field(None, description="An admin key accepted for the `default` project.")
    host: str = Field("127.0.0.1", description="Address `chatkitd serve` binds.")
    port: int = Field(8000, description="Port `chatkitd serve` binds.")
    public_url: str | None = Field(
        None,
        description="External base URL used in upload and preview links. Default: from the request.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins allowed to call the conversation endpoint (`*` for any).",
    )
    mode: Literal["development", "production"] | None = Field(
        None,
        description="`development` enables the playground session route. Default: development on loopback.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs upload and preview URLs. Default: generated once and kept in the data dir.",
    )
    workflows_dir: Path | None = Field(
        None,
        description="Folder of workflow definitions (.yaml, .py) deployed into the `default` project "
        "at serve start; a file whose content changed becomes a new version.",
    )
    model_base_url: str | None = Field(
        None,
        description="OpenAI-compatible Chat Completions endpoint (Ollama, vLLM, a gateway) for workflows "
        "that name no provider. Default: OpenAI's Responses API with `OPENAI_API_KEY`.",
    )
    model_api_key: SecretStr | None = Field(
        None, description="Key for `CHATKITD_MODEL_BASE_URL`. Server-side only; never sent to clients."
    )
    model: str | None = Field(None, description="Model for workflows that name none (and for titling).")
    otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP traces endpoint; when set, recorded traces are also exported there.",
    )
    response_cache_bytes: int = Field(
        16 * 1024 * 1024,
        ge=0,
        description="Memory for REST reads replayed until the next write (SQLite only); 0 turns it off.",
    )
    log_level: str = Field("info", description="Log level for the server.")
    web_search_backend: Literal["searxng", "brave", "tavily"] | None = Field(
        None,
        description="Back end of `web_search` tools that name none, when the model is not on OpenAI's "
        "Responses API (there, OpenAI's hosted search runs).",
    )
    searxng_url: str | None = Field(None, description="Base URL of the SearXNG instance `web_search` uses.")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_cors_origins(cls, value: object) -> object:
        return _split_csv(value)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'chatkitd.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def is_development(self) -> bool:
        if self.mode is not None:
            return self.mode == "development"
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"
