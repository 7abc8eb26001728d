"""Every input limit chatkitd enforces, in one place: the bounds, and the checks that are not JSON's.

Each limit is refused before any work, with a 4xx in OpenAI's envelope naming
the ``param``; README's "Input limits" table lists them. Who enforces what:

- bytes of a body: ``chatkitd.http.body_limit`` (every route, before a handler reads it);
- what a JSON body may hold (nesting, numbers, array lengths, NUL):
  ``chatkitd.rest.json_input`` (every REST body, every conversation request);
- text query parameters: ``chatkitd.http.body.query_text``;
- multipart fields beside an upload's file: ``chatkitd.http.multipart``;
- the size of a user message, a thread's title and an attachment's name: here
  (``check_conversation``, every conversation request type);
- the bounds OpenAI's reference gives ``sessions.create``'s fields (``user`` up to 512
  characters, 64 state variables...) are its schema's, kept with that model
  (``chatkitd.rest.sessions``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chatkit.types import (
    AttachmentsCreateReq,
    ChatKitReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsUpdateReq,
)

from chatkitd.errors import InvalidRequest
from chatkitd.rest.validation import param_path

# -- bytes ------------------------------------------------------------------------------------

# JSON bodies: sessions, conversation requests (a message with its attachments' ids), admin calls.
MAX_BODY_BYTES = 16 * 1024 * 1024
# Multipart boundaries, part headers and the other fields of an upload: the routes' outer bound
# allows this much beside the largest file; a declared length is refused early when it passes the
# file's own limit by more than the slack.
MULTIPART_ROOM = 1024 * 1024
MULTIPART_SLACK = 64 * 1024
# The largest ``chatkit_configuration.file_upload.max_file_size`` (512 MB, the reference's bound).
MAX_ATTACHMENT_BYTES = 512 * 1024 * 1024
# Beside an upload's file, a few small fields (the Files API's ``purpose``).
MAX_FIELD_BYTES = 4096
MAX_FIELDS = 16

# -- JSON ---------------------------------------------------------------------------------------

# Containers inside containers. Real requests nest a handful of levels (a widget
# action's payload, a tool's output); 64 leaves room for any of them.
MAX_DEPTH = 64
# Values in one array. ChatKit's lists (feedback item ids, attachments, content
# parts, a batch's file ids) are short; this keeps a list of ids within one query
# (PostgreSQL's driver takes 32 767 parameters) and the one SQLite writer's work short.
MAX_ARRAY_ITEMS = 1000
# JSON numbers chatkitd keeps are 64-bit integers or finite doubles.
MAX_INTEGER = 2**63 - 1

# -- text ---------------------------------------------------------------------------------------

# A text query parameter (``user``, cursors): the reference bounds ``user`` to 1-512.
MAX_QUERY_TEXT = 512
# Characters of one user message, all its strings counted (its text, quoted text, tags): about
# 50 000 tokens, more than a chat turn needs, and a bound on the work one message makes (saving
# it, titling it, a workflow reading it).
MAX_MESSAGE_CHARS = 200_000
# A thread's title and an attachment's name: shown in lists, sent back with every page of them.
MAX_NAME_CHARS = 512
# A workflow definition deployed through the admin API (YAML or Python source).
MAX_DEFINITION_CHARS = 1_000_000


def check_conversation(request: ChatKitReq) -> None:
    """The bounds of a conversation request that JSON's do not cover, or a 400 naming the param."""
    if isinstance(request, (ThreadsCreateReq, ThreadsAddUserMessageReq)):
        check_message(request.params.input.model_dump(mode="json"), ("params", "input"))
    if isinstance(request, ThreadsUpdateReq):
        check_name(request.params.title, "params.title")
    if isinstance(request, AttachmentsCreateReq):
        check_name(request.params.name, "params.name")


def check_message(message: dict[str, Any], at: tuple[Any, ...]) -> None:
    """At most ``MAX_MESSAGE_CHARS`` characters in all of a user message's strings (keys too)."""
    total = 0
    for path, text in _strings(message, at):
        total += len(text)
        if total > MAX_MESSAGE_CHARS:
            param = param_path(path)
            raise InvalidRequest(
                f"Invalid '{param}': a message may hold at most {MAX_MESSAGE_CHARS} characters of text.",
                param=param,
                code="message_too_long",
            )


def check_name(value: str, param: str) -> None:
    if len(value) > MAX_NAME_CHARS:
        raise InvalidRequest(
            f"Invalid '{param}': expected at most {MAX_NAME_CHARS} characters, got {len(value)}.",
            param=param,
            code="invalid_value",
        )


def cut_name(value: str) -> str:
    """A name that arrives with bytes already stored (a multipart upload's filename) is cut to the
    bound rather than refused."""
    return value[:MAX_NAME_CHARS]


def _strings(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key), key
            yield from _strings(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, (*path, index))
