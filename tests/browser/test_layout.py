"""The chat at every width: a drawer for the history under 640 px, nothing cut off in a
380 px box, the playground on a phone, and the dark theme over the whole page."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, RecordedPage
from tests.browser.support import assistant_messages, composer, open_playground, send, wait_idle

WIDE_ANSWER = (
    "md:| id | customer | product | quantity | unit price | total | status | shipped on |\n"
    "|---|---|---|---|---|---|---|---|\n"
    "| 10001 | Ada Lovelace | Analytical engine | 1 | 12 000 | 12 000 | delivered | 2026-01-02 |\n\n"
    "```python\nresult = some_function_with_a_long_name(argument_one, argument_two, three, four)\n```\n\n"
    "A long link: https://example.com/a/very/long/path/that/does/not/break/anywhere/at/all/0123456789\n\n"
    "$$\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2} + \\int_0^1 x^2\\,dx + \\prod_{k=1}^{n} k$$\n"
)
WIDE_WIDGET = {
    "type": "Card",
    "children": [
        {"type": "Title", "value": "Quarterly results for every region and product line"},
        {
            "type": "Row",
            "children": [
                {"type": "Button", "label": "Approve all"},
                {"type": "Button", "label": "Reject all", "style": "secondary"},
                {"type": "Button", "label": "Ask later", "style": "secondary"},
            ],
        },
        {
            "type": "Chart",
            "data": [{"m": f"month {i}", "v": i * 3} for i in range(12)],
            "xAxis": "m",
            "series": [{"type": "bar", "dataKey": "v", "label": "Sales"}],
        },
        {
            "type": "Table",
            "children": [
                {
                    "type": "Table.Row",
                    "header": True,
                    "children": [
                        {"type": "Table.Cell", "children": [{"type": "Text", "value": f"column {i}"}]}
                        for i in range(8)
                    ],
                }
            ],
        },
    ],
}

# Every element of the chat must lie inside the chat, unless a scrolling box holds it
# (a wide table or code block scrolls; that is not cut off).
OVERFLOWS = """() => {
  const host = document.querySelector("chatkitd-chat");
  const box = host.getBoundingClientRect();
  const root = host.shadowRoot;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === "auto" || x === "scroll") return true;
    }
    return false;
  };
  const out = [];
  for (const el of root.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") continue;
    if (scrolls(el)) continue;
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5) {
      out.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  // Nor is any element's content wider than the element, unless the element scrolls.
  for (const el of root.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    if (!el.clientWidth || style.display === "none" || ["auto", "scroll"].includes(style.overflowX)) continue;
    if (el.closest(".katex-mathml, .ck-sr-only")) continue; // for screen readers, not shown
    if (el.scrollWidth > el.clientWidth + 1) {
      out.push(`${el.tagName.toLowerCase()}.${el.className} content ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  const ck = root.querySelector(".ck-root");
  if (ck.scrollWidth > ck.clientWidth) out.push(`.ck-root scrolls ${ck.scrollWidth} > ${ck.clientWidth}`);
  return out;
}"""


SHADOW = "document.querySelector('chatkitd-chat').shadowRoot"
ACTIVE = f"{SHADOW}.activeElement"


def toggle(page):
    return page.locator("chatkitd-chat").get_by_role("button", name="Toggle history")


def test_under_640px_the_history_is_a_drawer(browser, ui_server, ui_user):
    context = browser.new_context(viewport={"width": 600, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    recorded = RecordedPage(context.new_page(), ui_server)
    try:
        page = open_playground(recorded, ui_user)
        send(page, "first thread")
        wait_idle(page)
        chat = page.locator("chatkitd-chat")
        expect(chat.locator(".ck-root.ck-narrow")).to_have_count(1)
        history = chat.locator(".ck-history")
        expect(history).to_be_hidden()
        expect(toggle(page)).to_have_attribute("aria-expanded", "false")

        toggle(page).click()
        expect(history).to_be_visible()
        expect(toggle(page)).to_have_attribute("aria-expanded", "true")
        # Over the conversation, not beside it, and focus moved into it.
        main, drawer = chat.locator(".ck-main").bounding_box(), history.bounding_box()
        assert main and drawer and drawer["x"] <= main["x"] + 1 and drawer["width"] < main["width"]
        page.wait_for_function(f"() => {ACTIVE} && {ACTIVE}.closest('.ck-history') !== null")
        expect(chat.locator(".ck-backdrop")).to_be_visible()
        # A modal dialog: Tab and Shift+Tab go round inside it; the conversation is out of reach.
        dialog = chat.get_by_role("dialog", name="Conversation history")
        expect(dialog).to_have_attribute("aria-modal", "true")
        assert page.evaluate(f"() => {SHADOW}.querySelector('.ck-main').inert")
        in_drawer = f"() => {ACTIVE} && {ACTIVE}.closest('.ck-history') !== null"
        stops = set()
        for key in ["Tab"] * 8 + ["Shift+Tab"] * 8:
            page.keyboard.press(key)
            assert page.evaluate(in_drawer), f"{key} left the drawer"
            stops.add(page.evaluate(f"() => {ACTIVE}.getAttribute('aria-label') || {ACTIVE}.textContent"))
        assert {"Close history", "first thread"} <= stops, stops
        # The list refreshing (fetchUpdates, a new title) keeps focus on the same row's control.
        chat.locator(".ck-thread-delete").first.focus()
        page.evaluate("() => window.playground.chat.fetchUpdates()")
        page.wait_for_timeout(200)
        assert page.evaluate(f"() => {ACTIVE} && {ACTIVE}.classList.contains('ck-thread-delete')")
        page.keyboard.press("Escape")
        expect(history).to_be_hidden()
        assert page.evaluate(f"() => {ACTIVE}.getAttribute('aria-label')") == "Toggle history"
        assert not page.evaluate(f"() => {SHADOW}.querySelector('.ck-main').inert")
        expect(chat.get_by_role("dialog")).to_have_count(0)

        # Choosing a conversation closes the drawer; so does its close button and the backdrop.
        chat.get_by_role("button", name="New chat").click()
        toggle(page).click()
        chat.locator(".ck-thread-open", has_text="first thread").click()
        expect(history).to_be_hidden()
        expect(chat.locator(".ck-item-user-message")).to_have_text("first thread")
        toggle(page).click()
        chat.get_by_role("button", name="Close history").click()
        expect(history).to_be_hidden()
        toggle(page).click()
        chat.locator(".ck-backdrop").click(position={"x": 560, "y": 400})
        expect(history).to_be_hidden()

        # Wider again: the sidebar is back beside the conversation, and no dialog.
        toggle(page).click()
        page.set_viewport_size({"width": 1200, "height": 800})
        expect(history).to_be_visible()
        expect(chat.get_by_role("dialog")).to_have_count(0)
        assert not page.evaluate(f"() => {SHADOW}.querySelector('.ck-main').inert")
        main, side = chat.locator(".ck-main").bounding_box(), history.bounding_box()
        assert main and side and side["x"] + side["width"] <= main["x"] + 1
        expect(chat.get_by_role("button", name="Close history")).to_be_hidden()
    finally:
        context.close()
    assert recorded.errors == []


def test_nothing_is_cut_off_in_a_380px_box(recorded, ui_user):
    page = open_playground(recorded, ui_user, workflow="render-echo")
    page.add_style_tag(content=".chat-pane { width: 380px; height: 640px; }")
    expect(page.locator("chatkitd-chat .ck-root.ck-narrow")).to_have_count(1)
    send(page, WIDE_ANSWER)
    wait_idle(page)
    send(page, "widget:" + json.dumps(WIDE_WIDGET))
    wait_idle(page)
    expect(page.locator("chatkitd-chat .ck-math .katex-display")).to_have_count(1)
    assert page.locator("chatkitd-chat").bounding_box()["width"] == 380  # type: ignore[index]
    for scroll_to in (0, 10_000):
        page.evaluate(f"() => {SHADOW}.querySelector('.ck-scroller').scrollTop = {scroll_to}")
        assert page.evaluate(OVERFLOWS) == [], page.evaluate(OVERFLOWS)
    # The wide table and code scroll inside the answer; the chart shrinks to fit.
    wrap = page.locator("chatkitd-chat .ck-table-wrap").first
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")
    chart = page.locator("chatkitd-chat .ck-chart-svg").first.bounding_box()
    assert chart and chart["width"] < 380
    toggle(page).click()
    expect(page.locator("chatkitd-chat .ck-history")).to_be_visible()
    assert page.evaluate(OVERFLOWS) == []


def test_the_playground_works_on_a_phone(browser, ui_server, ui_user):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
    )
    context.set_default_timeout(15_000)
    recorded = RecordedPage(context.new_page(), ui_server)
    try:
        page = open_playground(recorded, ui_user)
        # The page never scrolls sideways; the chat comes first and fills the screen.
        assert page.evaluate("() => document.scrollingElement.scrollWidth <= innerWidth")
        chat_box = page.locator("chatkitd-chat").bounding_box()
        assert chat_box and chat_box["y"] < 120 and chat_box["height"] > 600 and chat_box["width"] <= 390
        composer(page).tap()
        composer(page).fill("hello from a phone")
        page.locator("chatkitd-chat").get_by_role("button", name="Send message").tap()
        expect(assistant_messages(page).last).to_contain_text("hello from a phone")
        wait_idle(page)
        assert page.evaluate(OVERFLOWS) == [], page.evaluate(OVERFLOWS)
        page.screenshot(path=str(SCREENSHOTS / "phone.png"))
        # The session form is below, reachable and usable.
        user = page.get_by_label("User")
        user.scroll_into_view_if_needed()
        expect(user).to_be_in_viewport()
        assert page.evaluate("() => document.scrollingElement.scrollWidth <= innerWidth")
    finally:
        context.close()
    assert recorded.errors == []


@pytest.mark.parametrize("width,height", [(1280, 820), (390, 844)], ids=["desktop", "phone"])
def test_the_dark_theme_covers_the_whole_page(recorded, ui_user, width, height):
    recorded.page.set_viewport_size({"width": width, "height": height})
    page = open_playground(recorded, ui_user)
    page.get_by_label("Theme").select_option("dark")
    page.get_by_role("button", name="Start new session").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.locator("chatkitd-chat .ck-root")).to_have_attribute("data-scheme", "dark")

    def luminance(selector: str, prop: str = "backgroundColor") -> float:
        rgb = page.locator(selector).first.evaluate(f"el => getComputedStyle(el).{prop}")
        r, g, b = (int(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    for selector in ("body", ".page-header", ".panel", "#session-form input[name=user]"):
        assert luminance(selector) < 0.2, selector
    for selector in ("body", ".page-header h1", ".panel label"):
        assert luminance(selector, "color") > 0.6, selector
    assert luminance("chatkitd-chat .ck-root") < 0.2
    # Nothing light shows at the page's corners or between the panels, from top to bottom
    # (a phone scrolls down to the session form).
    for scroll in (0, 100_000):
        page.evaluate(f"() => window.scrollTo(0, {scroll})")
        for x, y in ((2, 2), (width - 10, height - 10), (width // 4, height // 2)):
            colour = page.evaluate(
                f"() => getComputedStyle(document.elementFromPoint({x}, {y})).backgroundColor"
            )
            assert colour != "rgb(255, 255, 255)" and colour != "rgb(243, 244, 247)", (x, y, colour)
