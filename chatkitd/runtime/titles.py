"""The offline thread title: the start of the first message, cut at a word, at most 40 characters."""

from __future__ import annotations

from chatkit.types import UserMessageItem

MAX_TITLE = 40
FALLBACK = "New conversation"


def offline_title(text: str) -> str:
    words = text.split()
    if not words:
        return FALLBACK
    title = " ".join(words)
    if len(title) <= MAX_TITLE:
        return title
    cut = title[: MAX_TITLE - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


MAX_MODEL_TITLE = 80


def clean_title(raw: str | None) -> str | None:
    """A model's title made safe to store and show: one line, no control characters, bounded.

    Models add quotes and newlines, and a NUL would fail on PostgreSQL; an
    empty result means the offline title is used instead.
    """
    if not raw:
        return None
    printable = "".join(ch if ch.isprintable() else " " for ch in raw)
    title = " ".join(printable.split()).strip("\"'`“”‘’ ")
    if len(title) > MAX_MODEL_TITLE:
        title = title[: MAX_MODEL_TITLE - 1].rstrip() + "…"
    return title or None


def first_text(item: UserMessageItem) -> str:
    text = " ".join(part.text for part in item.content)
    if not text.strip() and item.attachments:
        return item.attachments[0].name
    return text
