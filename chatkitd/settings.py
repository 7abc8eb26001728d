"""Every setting chatkitd reads, in one typed object built from the environment.

Each field maps to a ``CHATKITD_*`` variable; the README documents them in one
table, and a test keeps that table and this class in step.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
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
    migrate_on_start: bool = Field(
        True,
        description="`chatkitd serve` brings the schema up to date first. `false` for replicas: "
        "`chatkitd migrate` runs once before them, and a replica refuses a schema it does not match.",
    )
    api_key: SecretStr | None = Field(None, description="An admin key accepted for the `default` project.")
    metrics_token: SecretStr | None = Field(
        None, description="When set, `GET /metrics` needs `Authorization: Bearer <token>`."
    )
    retention_interval: float = Field(
        3600,
        ge=0,
        description="Seconds between the server's retention sweeps (`chatkitd retention`); 0: none.",
    )
    host: str = Field("127.0.0.1", description="Address `chatkitd serve` binds.")
    port: int = Field(8000, ge=0, le=65535, description="Port `chatkitd serve` binds.")
    public_url: str | None = Field(
        None,
        description="External base URL used in upload and preview links. Default: from the request.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins allowed to call the conversation endpoint (`*` for any).",
    )
    domain_keys: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description="ChatKit.js domain keys and the page origins each is registered for, "
        "`key=origin origin;key=origin`. Set, a page's requests must come from a registered origin.",
    )
    mode: Literal["development", "production"] | None = Field(
        None,
        description="`development` enables the playground session route. Default: development on loopback.",
    )
    storage_url: str | None = Field(
        None,
        description="Where uploaded files live: `s3://bucket/prefix` for an S3-compatible store "
        "(configured by the standard `AWS_*` variables). Default: `blobs/` in the data dir.",
    )
    upload_abandoned_seconds: int = Field(
        3600,
        ge=1,
        description="Age after which an unfinished multipart upload in the object store counts as "
        "abandoned (its server died) and is aborted; make it longer than any upload takes.",
    )
    upload_lease_seconds: int = Field(
        120,
        ge=1,
        description="An upload under way renews its claim every quarter of this; a claim not "
        "renewed for this long was a dead server's: the upload link may be used again, and a direct "
        "upload gives its file back to the session's `max_files`.",
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
    model: str | None = Field(
        None,
        description="Model for workflows that name none (and for titling); on `CHATKITD_MODEL_BASE_URL`, "
        "the model every workflow without its own provider runs, whatever it names.",
    )
    model_timeout: float = Field(
        300.0,
        gt=0,
        description="Seconds a model server may stay silent (before its answer starts, or between two "
        "parts of a streamed answer) before the call fails as timed out.",
    )
    model_map: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="`name=served` pairs, comma-separated: the model to run when a workflow without its "
        "own provider names `name` (e.g. `gpt-4.1-mini=llama3.2,gpt-4.1=llama3.3:70b`).",
    )
    otlp_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP traces endpoint; when set, recorded traces are also exported there.",
    )
    response_cache_bytes: int = Field(
        16 * 1024 * 1024,
        ge=0,
        description="Memory for REST reads replayed until the next write (SQLite only); 0 turns it off.",
    )
    max_connections: int = Field(
        16384,
        ge=1,
        description="Most client connections kept at once; one more closes the connection waiting on "
        "its client the longest, and a request beyond that many in progress is a 503 with Retry-After. "
        "Lowered to what the open-file limit allows.",
    )
    client_timeout: float = Field(
        15.0,
        gt=0,
        description="Seconds a client may take to send a request's head, between the parts of its "
        "body, or to read any of its answer, before it is disconnected.",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`text` or `json`: one JSON object per log line, with the request's id and the "
        "project, session, thread and workflow it concerns.",
    )
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = Field(
        "info", description="Log level for the server."
    )
    web_search_backend: Literal["searxng", "brave", "tavily"] | None = Field(
        None,
        description="Back end of `web_search` tools that name none, when the model is not on OpenAI's "
        "Responses API (there, OpenAI's hosted search runs).",
    )
    searxng_url: str | None = Field(None, description="Base URL of the SearXNG instance `web_search` uses.")
    file_max_bytes: int = Field(
        512 * 1024 * 1024,
        ge=1,
        description="Largest file `POST /v1/files` accepts (OpenAI's limit: 512 MB).",
    )
    embedding_model: str | None = Field(
        None,
        description="Embedding model for vector search; unset: vector stores are searched by words only.",
    )
    embedding_provider: Literal["openai", "sentence_transformers"] = Field(
        "openai",
        description="`openai`: any OpenAI-compatible /v1/embeddings endpoint; "
        "`sentence_transformers`: a local model (a path, or an installed package that ships one).",
    )
    embedding_base_url: str | None = Field(
        None, description="The /v1 base URL of the embeddings endpoint. Default: OpenAI with OPENAI_API_KEY."
    )
    embedding_api_key: SecretStr | None = Field(None, description="Key for `CHATKITD_EMBEDDING_BASE_URL`.")
    model_inputs: Annotated[list[Literal["images", "files", "none"]], NoDecode] | None = Field(
        None,
        description="What the server-wide model takes as it is (`images`, `files`, or `none`). "
        "Default: known from the model's name.",
    )
    transcription_base_url: str | None = Field(
        None,
        description="The /v1 base URL of an OpenAI-compatible speech-to-text endpoint "
        "(`POST /audio/transcriptions`: OpenAI, whisper.cpp's server, faster-whisper-server, vLLM) "
        "that serves the chat's dictation (`input.transcribe`). Unset, with no "
        "`CHATKITD_TRANSCRIPTION_MODEL` either: dictation is off.",
    )
    transcription_api_key: SecretStr | None = Field(
        None,
        description="Key for `CHATKITD_TRANSCRIPTION_BASE_URL` (default: `OPENAI_API_KEY`). "
        "Server-side only.",
    )
    transcription_model: str | None = Field(
        None,
        description="Speech-to-text model (default `whisper-1`). Set alone, it turns dictation on with "
        "OpenAI's endpoint and `OPENAI_API_KEY`.",
    )
    attachment_max_text_tokens: int = Field(
        20_000,
        ge=1,
        description="Tokens of an attached file's text a model is shown; the rest is cut, saying so.",
    )
    attachment_max_image_bytes: int = Field(
        20 * 1024 * 1024,
        ge=1,
        description="Largest image sent to a model as an image; larger ones become a note.",
    )
    attachment_max_file_bytes: int = Field(
        32 * 1024 * 1024, ge=1, description="Largest PDF sent to a model as a file; larger ones go as text."
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_cors_origins(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("domain_keys", mode="before")
    @classmethod
    def _parse_domain_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        keys: dict[str, list[str]] = {}
        for entry in value.split(";"):
            if not entry.strip():
                continue
            key, equals, origins = entry.partition("=")
            listed = origins.split()
            if not equals or not key.strip() or not listed:
                raise ValueError(
                    f"{entry!r} is not key=origin [origin ...], e.g. domain_pk_1=https://app.example.com"
                )
            for origin in listed:
                if (
                    origin.rstrip("/") != origin
                    or origin.count("/") != 2
                    or not origin.startswith(("http://", "https://"))
                ):
                    raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
            keys[key.strip()] = listed
        return keys

    @field_validator("model_map", mode="before")
    @classmethod
    def _parse_model_map(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs = {}
        for entry in value.split(","):
            if not entry.strip():
                continue
            name, equals, served = entry.partition("=")
            if not equals or not name.strip() or not served.strip():
                raise ValueError(f"{entry!r} is not name=served, e.g. gpt-4.1-mini=llama3.2")
            pairs[name.strip()] = served.strip()
        return pairs

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_database_url(cls, value: str | None) -> str | None:
        """A URL SQLAlchemy's async engine can use; libpq-style URLs get their async driver."""
        if not value:
            return None
        from sqlalchemy.engine import make_url  # imported here: settings load on every CLI start
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL, e.g. postgresql://user@host/db") from None
        driver = {
            "postgresql": "postgresql+asyncpg",
            "postgres": "postgresql+asyncpg",
            "sqlite": "sqlite+aiosqlite",
        }
        if url.drivername in driver:
            return url.set(drivername=driver[url.drivername]).render_as_string(hide_password=False)
        if url.drivername not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
            raise ValueError("use postgresql://... (asyncpg) or sqlite:///path (aiosqlite)")
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("s3://", "file://")):
            raise ValueError("must be s3://bucket/prefix or file:///path")
        if value and value.startswith("s3://") and not value.removeprefix("s3://").split("/")[0]:
            raise ValueError("names no bucket: use s3://bucket/prefix")
        return value or None

    @field_validator(
        "public_url",
        "model_base_url",
        "otlp_endpoint",
        "searxng_url",
        "embedding_base_url",
        "transcription_base_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError("is a file, not a directory")
        return value

    @field_validator("model_inputs", mode="before")
    @classmethod
    def _split_model_inputs(cls, value: object) -> object:
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


_NOT_ECHOED = frozenset({"api_key", "secret_key", "model_api_key", "database_url", "metrics_token"})


class SettingsError(ValueError):
    """A setting that cannot be used, said in one line per setting, naming its variable."""


def load_settings(**overrides: object) -> Settings:
    """The settings from the environment and ``overrides`` (command-line options, by field name).

    Raises ``SettingsError`` naming ``CHATKITD_*`` (or the option) instead of
    pydantic's multi-line report, so an operator reads what to fix, not a traceback.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors(include_url=False):
            field = str(problem["loc"][0]) if problem["loc"] else ""
            name = f"--{field.replace('_', '-')}" if field in overrides else f"CHATKITD_{field.upper()}"
            # Values that may hold a credential (a key, a password in a URL) are never echoed.
            hidden = field in _NOT_ECHOED or isinstance(problem["input"], dict)
            reason = str(problem["msg"]).removeprefix("Value error, ")
            lines.append(_invalid(name, None if hidden else problem["input"], reason))
        raise SettingsError("\n".join(lines)) from None


def _invalid(name: str, value: object, reason: str) -> str:
    shown = "" if value is None else f"={value!r}"
    return f"Invalid setting {name}{shown}: {reason}."


def check_serving(settings: Settings) -> None:
    """What only ``chatkitd serve`` uses, checked before it serves (other commands, run with the
    server's environment where its folders are not, must not fail on them)."""
    folder = settings.workflows_dir
    if folder is not None and not folder.is_dir():
        reason = "is not a directory" if folder.exists() else "does not exist"
        raise SettingsError(_invalid("CHATKITD_WORKFLOWS_DIR", str(folder), reason))
