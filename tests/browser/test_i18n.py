"""The chat in seven languages: it follows the browser, the `locale` option overrides it,
no English is left in another language's chat, and Arabic is laid out right to left."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, RecordedPage
from tests.browser.support import open_playground, send, wait_idle

LOCALES_DIR = Path(__file__).resolve().parents[2] / "chatkitd/web/src/chat/locales"
# Browser language -> the chat's locale.
BROWSER = {
    "en-US": "en",
    "fr-FR": "fr",
    "de-DE": "de",
    "es-ES": "es",
    "ja-JP": "ja",
    "zh-CN": "zh-CN",
    "ar-EG": "ar",
}


def strings(locale: str) -> dict:
    return json.loads((LOCALES_DIR / f"{locale}.json").read_text(encoding="utf-8"))


def new_page(browser, server, browser_locale: str, **viewport) -> RecordedPage:
    context = browser.new_context(viewport=viewport or {"width": 1100, "height": 760}, locale=browser_locale)
    context.set_default_timeout(15_000)
    return RecordedPage(context.new_page(), server)


def shown_text(page) -> list[str]:
    """Every text, label and placeholder of the chat's frame (not the conversation's content)."""
    return page.evaluate(
        """() => {
          const root = document.querySelector("chatkitd-chat").shadowRoot;
          const out = [];
          // What the conversation, the thread titles and the page's own options say is theirs.
          const theirs = ".ck-assistant-body,.ck-bubble,.ck-thread-open,.ck-title,.ck-prompts,.ck-select";
          for (const el of root.querySelectorAll("*")) {
            if (el.closest(theirs)) continue;
            for (const attr of ["aria-label", "placeholder", "title"]) {
              if (el.getAttribute(attr)) out.push(el.getAttribute(attr));
            }
            for (const node of el.childNodes) {
              if (node.nodeType === 3 && node.textContent.trim()) out.push(node.textContent.trim());
            }
          }
          return out;
        }"""
    )


@pytest.mark.parametrize("browser_locale", list(BROWSER))
def test_the_chat_speaks_the_browsers_language(browser, ui_server, ui_user, browser_locale):
    locale = BROWSER[browser_locale]
    words = strings(locale)
    recorded = new_page(browser, ui_server, browser_locale)
    try:
        page = open_playground(recorded, ui_user, recent_threads="2")
        chat = page.locator("chatkitd-chat")
        root = chat.locator(".ck-root")
        expect(root).to_have_attribute("lang", locale)
        expect(root).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")
        expect(chat.locator(".ck-title")).to_have_text(words["newChat"])
        expect(chat.get_by_role("button", name=words["newChat"], exact=True)).to_be_visible()
        expect(chat.get_by_role("textbox", name=words["message"], exact=True)).to_be_visible()
        expect(chat.get_by_role("button", name=words["sendMessage"], exact=True)).to_have_text(words["send"])
        expect(chat.locator(".ck-history-title")).to_have_text(words["history"])
        # Plural rules of the language: "2" is its own form in Arabic.
        recent = words["historyRecent"]
        form = {"ar": "two", "ja": "other", "zh-CN": "other"}.get(locale, "other")
        expect(chat.locator(".ck-history-note")).to_have_text(recent[form].replace("{count}", "2"))

        # A turn, so the response actions are drawn too.
        chat.get_by_role("textbox", name=words["message"], exact=True).fill("hello")
        chat.get_by_role("textbox", name=words["message"], exact=True).press("Enter")
        expect(chat.get_by_role("button", name=words["sendMessage"], exact=True)).to_be_visible()
        expect(chat.get_by_role("button", name=words["goodResponse"], exact=True)).to_be_visible()
        expect(chat.get_by_role("button", name=words["retry"], exact=True)).to_be_visible()
        if locale == "ar":
            recorded.page.screenshot(path=str(SCREENSHOTS / "chat-arabic.png"))
        if locale != "en":
            english = {v for v in strings("en").values() if isinstance(v, str) and "{" not in v}
            english -= set(w for w in words.values() if isinstance(w, str))  # words spelt the same
            leftovers = [text for text in shown_text(page) if text in english]
            assert leftovers == [], f"English left in the {locale} chat: {leftovers}"
    finally:
        recorded.page.context.close()
    assert recorded.errors == []


def test_the_locale_option_overrides_the_browser_and_redraws(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "hello")
    wait_idle(page)
    chat = page.locator("chatkitd-chat")
    expect(chat.get_by_role("button", name="Send message")).to_be_visible()
    page.evaluate(
        "() => window.playground.chat.setOptions({ ...window.playground.chat.options, locale: 'de-AT' })"
    )
    de = strings("de")
    expect(chat.locator(".ck-root")).to_have_attribute("lang", "de")
    expect(chat.get_by_role("button", name=de["sendMessage"], exact=True)).to_have_text(de["send"])
    # Items already on screen are redrawn in the new language.
    expect(chat.get_by_role("button", name=de["goodResponse"], exact=True)).to_be_visible()
    expect(chat.get_by_role("button", name="Good response", exact=True)).to_have_count(0)
    page.evaluate(
        "() => window.playground.chat.setOptions({ ...window.playground.chat.options, locale: 'ar' })"
    )
    expect(chat.locator(".ck-root")).to_have_attribute("dir", "rtl")
    expect(chat.get_by_role("button", name=strings("ar")["sendMessage"], exact=True)).to_be_visible()


def test_arabic_is_laid_out_right_to_left(browser, ui_server, ui_user):
    recorded = new_page(browser, ui_server, "ar-EG", width=1100, height=760)
    try:
        page = open_playground(recorded, ui_user, workflow="render-echo")
        chat = page.locator("chatkitd-chat")
        ar = strings("ar")
        box_ = chat.get_by_role("textbox", name=ar["message"], exact=True)
        box_.fill("md:مرحبا **بالعالم**\n\n- أولا\n- ثانيا")
        box_.press("Enter")
        expect(chat.locator(".ck-markdown li")).to_have_count(2)
        expect(chat.get_by_role("button", name=ar["sendMessage"], exact=True)).to_be_visible()

        def box(selector):
            found = chat.locator(selector).first.bounding_box()
            assert found is not None, selector
            return found

        history, main = box(".ck-history"), box(".ck-main")
        assert history["x"] > main["x"], "the history sits on the right"
        # The user's bubble hugs the left edge of the conversation, the answer the right.
        user, answer, log = box(".ck-item-user-message"), box(".ck-item-assistant-message"), box(".ck-log")
        assert abs(user["x"] - log["x"]) < 2
        assert abs((answer["x"] + answer["width"]) - (log["x"] + log["width"])) < 2
        # The composer reads right to left: the attach button first on the right, Send on the left.
        attach = chat.get_by_role("button", name=ar["attachFiles"], exact=True).bounding_box()
        send_button = box(".ck-send")
        assert attach is not None
        assert attach["x"] > send_button["x"]
        # List bullets and quote bars are on the right of the text.
        item = chat.locator(".ck-markdown li").first
        assert item.evaluate("el => getComputedStyle(el).direction") == "rtl"
        assert re.search("[\u0600-\u06ff]", chat.locator(".ck-send").inner_text())
        overflow = page.evaluate(
            "() => document.querySelector('chatkitd-chat').shadowRoot.querySelector('.ck-root').scrollWidth"
            " - document.querySelector('chatkitd-chat').shadowRoot.querySelector('.ck-root').clientWidth"
        )
        assert overflow <= 0
    finally:
        recorded.page.context.close()
    assert recorded.errors == []


def content_strings(node) -> set[str]:
    """Every string a widget tree carries (values and keys): what the workflow said, not the chat."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(str(key))
            found |= content_strings(value)
    elif isinstance(node, list):
        for value in node:
            found |= content_strings(value)
    elif isinstance(node, str):
        found.add(node)
    return found


# Everything the chat draws itself around content: its texts and its labels for assistive tech;
# and the thread titles (the user's words), to take out of the labels that name them.
UI_TEXTS = """() => {
  const root = document.querySelector("chatkitd-chat").shadowRoot;
  // The page's own options (greeting, placeholder), the user's words, the thread titles,
  // rendered markdown (but its buttons), code and TeX are not the chat's words.
  const theirs = ".ck-start,.ck-bubble,.ck-user-text,.ck-thread-open,.ck-title,pre,.ck-math,.ck-code-lang";
  const texts = [];
  for (const el of root.querySelectorAll("*")) {
    if (el.closest(theirs) || el.matches("textarea")) continue;
    for (const attr of ["aria-label", "title", "placeholder", "alt", "aria-description"]) {
      if (el.getAttribute(attr)) texts.push(el.getAttribute(attr));
    }
    if (el.closest(".ck-markdown") && !el.closest("button")) continue;
    for (const node of el.childNodes) {
      if (node.nodeType === 3 && node.textContent.trim()) texts.push(node.textContent.trim());
    }
  }
  const titles = [...root.querySelectorAll(".ck-thread-open")].map((el) => el.textContent);
  return { texts, titles };
}"""
MARKDOWN = "md:## T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint(1)\n```\n\n$x^2$"


def drawn_words(browser, server, user: str, browser_locale: str) -> set[str]:
    """What the chat writes itself around the widget gallery and rich markdown, each text with
    the workflow's and the user's own strings taken out (only the chat's words are left)."""
    from tests.browser.workflows.widget_gallery import GALLERY

    recorded = new_page(browser, server, browser_locale)
    try:
        page = open_playground(recorded, user, workflow="widget-gallery")
        send(page, "gallery")
        wait_idle(page)
        expect(page.locator("chatkitd-chat [data-widget=Basic]")).to_be_visible()
        first = page.evaluate(UI_TEXTS)
        page = open_playground(recorded, user + "_md", workflow="render-echo")
        send(page, MARKDOWN)
        wait_idle(page)
        expect(page.locator("chatkitd-chat .ck-math[data-typeset]")).to_have_count(1)
        second = page.evaluate(UI_TEXTS)
    finally:
        recorded.page.context.close()
    assert recorded.errors == []
    content = content_strings(GALLERY) | {"T", "a", "b", "gallery"} | set(first["titles"] + second["titles"])
    ordered = sorted(content, key=len, reverse=True)
    words = set()
    for text in first["texts"] + second["texts"]:
        for piece in ordered:  # whole Latin words only: "a" is no piece of "Chat"
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(piece)}(?![A-Za-z0-9])", " ", text)
        rest = " ".join(re.sub(r"[\W\d_]+", " ", text).split())
        if rest:
            words.add(rest)
    return words


@pytest.fixture(scope="module")
def english_words(browser, ui_server) -> set[str]:
    return drawn_words(browser, ui_server, "ui_i18n_en", "en-US")


@pytest.mark.parametrize("browser_locale", [b for b in BROWSER if b != "en-US"])
def test_no_english_is_drawn_around_widgets_markdown_and_charts(
    browser, ui_server, ui_user, english_words, browser_locale
):
    """In another language, whatever the chat writes itself (buttons, labels, chart summaries,
    list toggles, copy buttons...) is in that language, hard-coded strings included: no text the
    English chat draws is drawn the same (unless the locale file says the word is the same), and
    a language in another script has no Latin word left at all."""
    locale = BROWSER[browser_locale]
    drawn = drawn_words(browser, ui_server, ui_user, browser_locale)
    assert english_words and drawn
    same_in_both = {v for k, v in strings(locale).items() if isinstance(v, str) and strings("en").get(k) == v}
    leftovers = {w for w in drawn & english_words if w not in same_in_both}
    if locale in ("ja", "zh-CN", "ar"):
        leftovers |= {w for w in drawn if re.search(r"[A-Za-z]{2,}", w)}
    assert leftovers == set(), f"English drawn by the {locale} chat: {sorted(leftovers)}"
