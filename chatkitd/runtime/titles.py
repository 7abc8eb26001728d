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


def first_text(item: UserMessageItem) -> str:
    text = " ".join(part.text for part in item.content)
    if not text.strip() and item.attachments:
        return item.attachments[0].name
    return text
