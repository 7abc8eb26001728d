"""``POST /chatkit/sessions`` and ``/cancel``: validation, defaults and the session object.

Every bound and default here comes from the ChatKit API reference.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from chatkitd import clock, credentials, ids
from chatkitd.store import sessions as session_store
from chatkitd.store.db import Database
from chatkitd.store.sessions import SessionRecord
from chatkitd.workflows.registry import WorkflowRegistry

DEFAULT_EXPIRES_SECONDS = 600
DEFAULT_RATE_LIMIT = 10
DEFAULT_MAX_FILES = 10
MAX_FILE_SIZE_MB = 512
# Counts are stored in 32-bit integer columns; larger values are refused, not overflowed.
MAX_COUNT = 2**31 - 1
# The width of the workflow id and version columns.
MAX_WORKFLOW_REF = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_nul(value: str) -> str:
    # PostgreSQL text columns cannot hold NUL; refuse it up front rather than fail on insert.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[StrictStr, AfterValidator(_no_nul)]
StateKey = Annotated[str, Field(min_length=1, max_length=64)]
StateValue = StrictBool | StrictInt | StrictFloat | Annotated[StrictStr, Field(max_length=10485760)]


class TracingParam(_Strict):
    enabled: StrictBool = True


class WorkflowParam(_Strict):
    id: Annotated[Text, Field(min_length=1, max_length=MAX_WORKFLOW_REF)]
    version: Annotated[Text, Field(max_length=MAX_WORKFLOW_REF)] | None = None
    state_variables: Annotated[dict[StateKey, StateValue], Field(max_length=64)] | None = None
    tracing: TracingParam | None = None


class ExpiresAfterParam(_Strict):
    anchor: Literal["created_at"]
    seconds: Annotated[StrictInt, Field(ge=1, le=600)]


class RateLimitsParam(_Strict):
    max_requests_per_1_minute: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] = DEFAULT_RATE_LIMIT


class AutomaticThreadTitlingParam(_Strict):
    enabled: StrictBool = True


class FileUploadParam(_Strict):
    enabled: StrictBool = False
    max_file_size: Annotated[StrictInt, Field(ge=1, le=MAX_FILE_SIZE_MB)] = MAX_FILE_SIZE_MB
    max_files: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] = DEFAULT_MAX_FILES


class HistoryParam(_Strict):
    enabled: StrictBool = True
    recent_threads: Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)] | None = None


class ChatKitConfigurationParam(_Strict):
    automatic_thread_titling: AutomaticThreadTitlingParam = AutomaticThreadTitlingParam()
    file_upload: FileUploadParam = FileUploadParam()
    history: HistoryParam = HistoryParam()


class SessionCreateBody(_Strict):
    user: Annotated[Text, Field(min_length=1, max_length=512, pattern=r"\S")]
    workflow: WorkflowParam
    chatkit_configuration: ChatKitConfigurationParam = ChatKitConfigurationParam()
    expires_after: ExpiresAfterParam | None = None
    rate_limits: RateLimitsParam = RateLimitsParam()


async def create_session(
    db: Database, registry: WorkflowRegistry, project_id: str, body: SessionCreateBody
) -> tuple[SessionRecord, str]:
    """Record a new session; returns it with its client secret, shown only this once."""
    workflow = body.workflow
    resolved = await registry.resolve(project_id, workflow.id, workflow.version)
    config = body.chatkit_configuration
    created_at = clock.unix()
    seconds = body.expires_after.seconds if body.expires_after else DEFAULT_EXPIRES_SECONDS
    secret = credentials.new_client_secret()
    record = SessionRecord(
        id=ids.new_id(ids.SESSION),
        project_id=project_id,
        user=body.user,
        secret_digest=credentials.digest(secret),
        workflow_id=workflow.id,
        workflow_version=workflow.version,
        resolved_version=resolved.version,
        state_variables=workflow.state_variables,
        tracing_enabled=workflow.tracing.enabled if workflow.tracing else True,
        titling_enabled=config.automatic_thread_titling.enabled,
        upload_enabled=config.file_upload.enabled,
        max_files=config.file_upload.max_files,
        max_file_size=config.file_upload.max_file_size,
        history_enabled=config.history.enabled,
        recent_threads=config.history.recent_threads,
        rate_limit=body.rate_limits.max_requests_per_1_minute,
        created_at=created_at,
        # Rounded up, so a session never lives less than it was given.
        expires_at=math.ceil(created_at + seconds),
        cancelled_at=None,
    )
    await session_store.insert_session(db, record)
    return record, secret


def session_resource(record: SessionRecord, client_secret: str | None = None) -> dict[str, Any]:
    """The ``chatkit.session`` object. Without the secret, a redacted form stands in."""
    return {
        "id": record.id,
        "object": "chatkit.session",
        "chatkit_configuration": {
            "automatic_thread_titling": {"enabled": record.titling_enabled},
            "file_upload": {
                "enabled": record.upload_enabled,
                "max_file_size": record.max_file_size,
                "max_files": record.max_files,
            },
            "history": {
                "enabled": record.history_enabled,
                "recent_threads": record.recent_threads,
            },
        },
        "client_secret": client_secret or credentials.redact(record.secret_digest),
        "expires_at": record.expires_at,
        "max_requests_per_1_minute": record.rate_limit,
        "rate_limits": {"max_requests_per_1_minute": record.rate_limit},
        "status": record.status(),
        "user": record.user,
        "workflow": {
            "id": record.workflow_id,
            "state_variables": record.state_variables,
            "tracing": {"enabled": record.tracing_enabled},
            "version": record.workflow_version,
        },
    }
