"""Steps the browser tests share: open the playground, send a message, wait for replies."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import RecordedPage


def open_playground(recorded: RecordedPage, user: str, **fields: str) -> Page:
    """Load `/` with the session form prefilled from the query string; wait for its session."""
    page = recorded.page
    page.goto(f"{recorded.server.base_url}/?{urlencode({'user': user, **fields})}")
    # An arrow function, not a bare expression: the page's CSP forbids eval.
    page.wait_for_function(
        f"() => window.playground && window.playground.sessions.some(s => s.user === {json.dumps(user)})"
    )
    return page


LOCALES = Path(__file__).resolve().parents[2] / "chatkitd/web/src/chat/locales"


def words(page: Page) -> dict:
    """The chat's own words in the language it shows (its root's `lang`), from its locale file."""
    lang = page.locator("chatkitd-chat .ck-root").get_attribute("lang") or "en"
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def composer(page: Page) -> Locator:
    return page.get_by_role("textbox", name=words(page)["message"], exact=True)


def send(page: Page, text: str) -> None:
    box = composer(page)
    box.fill(text)
    box.press("Enter")


def assistant_messages(page: Page) -> Locator:
    return page.locator("chatkitd-chat .ck-item-assistant-message")


def wait_idle(page: Page) -> None:
    """Until no response is streaming (the Send button is back)."""
    expect(page.get_by_role("button", name=words(page)["sendMessage"], exact=True)).to_be_visible()
