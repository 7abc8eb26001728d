"""The chat's translations (chatkitd/web/src/chat/locales): complete, well formed, really translated.

What each locale looks like in the browser is tests/browser/test_i18n.py; this checks
the files themselves, so a key added to English and forgotten elsewhere fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

LOCALES_DIR = Path(__file__).resolve().parents[1] / "chatkitd/web/src/chat/locales"
REQUIRED = ["en", "fr", "de", "es", "ja", "zh-CN", "ar"]
# Plural categories each language uses (CLDR), so every count finds its form.
PLURALS = {
    "en": {"one", "other"},
    "fr": {"one", "other"},
    "de": {"one", "other"},
    "es": {"one", "other"},
    "ja": {"other"},
    "zh-CN": {"other"},
    "ar": {"zero", "one", "two", "few", "many", "other"},
}
# Words that are the same in a language as in English.
SAME_AS_ENGLISH = {"message", "sources", "source", "arguments", "chat"}


def load(locale: str) -> dict:
    return json.loads((LOCALES_DIR / f"{locale}.json").read_text(encoding="utf-8"))


def placeholders(value) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for name in re.findall(r"\{(\w+)\}", text)}


def test_the_required_locales_exist():
    assert {p.stem for p in LOCALES_DIR.glob("*.json")} >= set(REQUIRED)


@pytest.mark.parametrize("locale", REQUIRED[1:])
def test_every_string_is_translated(locale):
    english, strings = load("en"), load(locale)
    assert set(strings) == set(english), set(english) ^ set(strings)
    for key, value in english.items():
        translated = strings[key]
        assert translated, key
        if isinstance(value, dict):
            assert isinstance(translated, dict), key
            assert "other" in translated, key
            assert set(translated) <= PLURALS[locale], key
        # The same variables, so nothing the sentence needs goes missing.
        english_vars = placeholders(value) - {"count"}
        assert placeholders(translated) - {"count"} == english_vars, key
        if key not in SAME_AS_ENGLISH and locale != "en":
            assert translated != value, f"{locale}.{key} is still English"


def test_every_key_the_chat_asks_for_exists():
    """A t("key") whose key no locale has would show the key itself: every literal key the
    sources translate is in English (and so, by the test above, in every locale)."""
    sources = (LOCALES_DIR.parent.parent).rglob("*.js")
    used = {key for path in sources for key in re.findall(r"""\bt\(\s*["'](\w+)["']""", path.read_text())}
    assert len(used) > 40  # the pattern still finds the chat's calls
    assert used - set(load("en")) == set()
