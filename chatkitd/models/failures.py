"""What a failed model call tells the user, and what it tells the operator.

An unknown model, an unreachable model server or refused credentials are
expected failures of a deployment, not bugs: the user gets a short message
that says what happened without naming hosts, keys or the server's own
words (which may echo a key); the log gets one line with the workflow, the
provider, the model and the model server's reason, and no traceback.

Every run path ends a failed model call through ``clear_error``: YAML and
Python agents, exports and graph nodes with what they know of their model
(``RunEnvironment.raise_if_model_failure``), and any workflow whose own code
calls a model (a ``Workflow`` subclass) with what the failed call itself says
(``called``), caught where every run is traced.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import openai
from chatkit.errors import CustomStreamError

from chatkitd.models.providers import ModelUnavailable

logger = logging.getLogger("chatkitd.workflows.agent")  # the name operators' log filters know


@dataclass(frozen=True)
class ModelFailure:
    user_message: str
    allow_retry: bool
    reason: str  # for the operator's log only


def _server_words(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if message:
            return str(message)[:300]
    return str(error.message)[:300]


def model_failure(error: BaseException) -> ModelFailure | None:
    """The failure ``error`` stands for, or None when it is not a model-server failure."""
    if isinstance(error, ModelUnavailable):
        return ModelFailure("This assistant's model is not available right now.", False, str(error))
    if isinstance(error, openai.APITimeoutError):
        return ModelFailure(
            "This assistant's model server did not answer in time. Try again in a moment.",
            True,
            "the model server timed out",
        )
    if isinstance(error, openai.APIConnectionError):
        cause = error.__cause__ or error.__context__
        why = f": {cause}" if cause else ""
        return ModelFailure(
            "This assistant's model server cannot be reached right now. Try again in a moment.",
            True,
            f"cannot connect to the model server{why}",
        )
    if not isinstance(error, openai.APIStatusError):
        return None
    status = error.status_code
    reason = f"HTTP {status} from the model server: {_server_words(error)}"
    if status == 404:
        return ModelFailure(
            "This assistant's model is not available on its model server.",
            False,
            reason + " (a model the server does not have: see CHATKITD_MODEL and CHATKITD_MODEL_MAP)",
        )
    if status in (401, 403):
        return ModelFailure("This assistant's model server refused its credentials.", False, reason)
    if status == 429:
        return ModelFailure("This assistant's model server is busy. Try again in a moment.", True, reason)
    if status >= 500:
        return ModelFailure(
            "This assistant's model server had an error. Try again in a moment.", True, reason
        )
    return ModelFailure("This assistant's model server refused the request.", False, reason)


@dataclass(frozen=True)
class Where:
    """What the operator's line names about the run and its model (never a key)."""

    workflow: str
    version: str
    provider: str | None
    endpoint: str | None
    model: str | None
    served_as: str | None
    thread: str | None
    session: str | None


def clear_error(failure: ModelFailure, where: Where) -> CustomStreamError:
    """The one log line for the operator, and the error event the user gets (raise it)."""
    logger.error(
        "model call failed: workflow=%s version=%s provider=%s endpoint=%s model=%s served_as=%s "
        "thread=%s session=%s: %s",
        where.workflow,
        where.version,
        where.provider,
        where.endpoint,
        where.model,
        where.served_as,
        where.thread,
        where.session,
        failure.reason,
    )
    return CustomStreamError(failure.user_message, allow_retry=failure.allow_retry)


# The path each kind of model server is called on, after its base URL.
_PATHS = {"/chat/completions": "chat_completions", "/responses": "openai"}


def called(error: BaseException) -> dict[str, Any]:
    """What a failed call says of itself: the provider and endpoint it went to and the model it
    asked for (for a workflow's own model calls, which chatkitd did not build)."""
    request = getattr(error, "request", None)
    url = getattr(request, "url", None)
    if url is None:
        return {"provider": None, "endpoint": None, "model": None}
    # Scheme, host, port and path only: never a password in the URL, nor its query.
    address = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "") + url.path
    provider = None
    for path, kind in _PATHS.items():
        if address.endswith(path):
            address, provider = address.removesuffix(path), kind
    try:
        model = json.loads(getattr(request, "content", b"")).get("model")
    except (ValueError, AttributeError, TypeError, RuntimeError):
        model = None
    return {"provider": provider, "endpoint": address, "model": model if isinstance(model, str) else None}
