"""The playground's sessions: what ``POST /playground/session`` mints, without any admin key.

The playground is a development tool, so its sessions are generous (a high rate
limit, uploads on) and belong to the ``default`` project, where ``make serve``'s
first admin key can see them in the admin console.
"""

from __future__ import annotations

from typing import Any

from chatkitd.rest.sessions import SessionCreateBody
from chatkitd.rest.validation import parse

PLAYGROUND_USER = "playground-user"
PLAYGROUND_RATE_LIMIT = 1000
PLAYGROUND_MAX_FILE_SIZE_MB = 10
PLAYGROUND_MAX_FILES = 20


def playground_session_body(raw: dict[str, Any]) -> SessionCreateBody:
    """A session body from the playground's form: the page picks the workflow, the user,
    state variables and, for trying the limits, the upload and history settings."""
    file_upload = raw.get("file_upload") or {}
    if isinstance(file_upload, dict):
        defaults = {"enabled": True, "max_file_size": PLAYGROUND_MAX_FILE_SIZE_MB}
        file_upload = {**defaults, "max_files": PLAYGROUND_MAX_FILES, **file_upload}
    # Anything else goes to validation as sent, which refuses it naming the param.
    configuration: dict[str, Any] = {"file_upload": file_upload}
    if raw.get("history") is not None:
        configuration["history"] = raw["history"]
    body: dict[str, Any] = {
        "user": raw.get("user") or PLAYGROUND_USER,
        "workflow": raw.get("workflow") or {"id": "demo"},
        "chatkit_configuration": configuration,
        "rate_limits": {
            "max_requests_per_1_minute": raw.get("max_requests_per_1_minute", PLAYGROUND_RATE_LIMIT)
        },
    }
    if raw.get("expires_after") is not None:
        body["expires_after"] = raw["expires_after"]
    return parse(SessionCreateBody, body)
