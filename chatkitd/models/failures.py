"""What a failed model call tells the user, and what it tells the operator.

An unknown model, an unreachable model server or refused credentials are
expected failures of a deployment, not bugs: the user gets a short message
that says what happened without naming hosts, keys or the server's own
words (which may echo a key); the log gets one line with the workflow, the
provider, the model and the model server's reason, and no traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

import openai

from chatkitd.models.providers import ModelUnavailable


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
