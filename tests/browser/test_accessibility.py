"""axe-core (from npm, injected into the page) finds no serious or critical violation on the
chat, the playground and the admin console, in the light and the dark theme; and the chat
is usable from the keyboard alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, RecordedPage
from tests.browser.support import assistant_messages, composer, open_playground, send, wait_idle
from tests.browser.test_admin_console import hold_conversation

AXE = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
RICH = "md:## Table\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n\nMath: $x^2$"


def axe_violations(page) -> list[str]:
    """Serious and critical axe findings on the page, shadow roots included."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))  # the context bypasses the page's CSP for this
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => ({
              id: v.id,
              impact: v.impact,
              nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
            }));
        }"""
    )
    return [json.dumps(v, indent=1) for v in result]


def check_axe(page) -> None:
    found = axe_violations(page)
    assert not found, "\n".join(found)


PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
# (colour scheme, screen, browser language): both schemes, a phone, and right to left.
SETUPS = {
    "light-desktop-en": ("light", DESKTOP, "en-US"),
    "dark-desktop-en": ("dark", DESKTOP, "en-US"),
    "light-phone-en": ("light", PHONE, "en-US"),
    "dark-phone-ar": ("dark", PHONE, "ar-EG"),
    "light-desktop-ar": ("light", DESKTOP, "ar-EG"),
}


@pytest.fixture(params=list(SETUPS))
def setup(request) -> tuple[str, dict, str]:
    return SETUPS[request.param]


@pytest.fixture
def scheme(setup) -> str:
    return setup[0]


@pytest.fixture
def axe_page(browser, ui_server, setup):
    scheme, screen, locale = setup
    context = browser.new_context(
        **screen,
        locale=locale,
        bypass_csp=True,  # to inject axe-core
        color_scheme=scheme,
        reduced_motion="reduce",  # axe measures colours: not halfway through a fade-in
    )
    context.set_default_timeout(15_000)
    recorded = RecordedPage(context.new_page(), ui_server)
    try:
        yield recorded
    finally:
        context.close()
    assert recorded.errors == []


def test_chat_and_playground_have_no_serious_axe_violations(axe_page, ui_user, scheme):
    page = open_playground(axe_page, ui_user, workflow="widget-gallery", scheme=scheme)
    expect(page.locator("chatkitd-chat .ck-root")).to_have_attribute("data-scheme", scheme)
    expect(page.locator("html")).to_have_attribute("data-theme", scheme)
    check_axe(page)  # the start screen
    send(page, "every widget")
    wait_idle(page)
    expect(page.locator("chatkitd-chat [data-widget=Basic]")).to_be_visible()
    check_axe(page)
    page = open_playground(axe_page, ui_user + "_md", workflow="render-echo", scheme=scheme)
    send(page, RICH)
    wait_idle(page)
    expect(page.locator("chatkitd-chat .ck-math[data-typeset]")).to_have_count(1)
    expect(page.locator("chatkitd-chat .hljs-built_in, chatkitd-chat .hljs-string").first).to_be_attached()
    check_axe(page)
    # The history: a sidebar, or on a phone a drawer over the conversation.
    chat = page.locator("chatkitd-chat")
    if chat.locator(".ck-root.ck-narrow").count():
        chat.locator(".ck-header button").first.click()
        expect(chat.locator(".ck-history")).to_be_visible()
        expect(chat.locator(".ck-backdrop")).to_be_visible()
        check_axe(page)


def test_admin_console_has_no_serious_axe_violations(axe_page, ui_user, scheme):
    page = open_playground(axe_page, ui_user)
    thread_id = hold_conversation(page)
    page.goto(axe_page.server.base_url + "/admin")
    check_axe(page)  # sign-in
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("table.data")).to_be_visible()
    check_axe(page)  # sessions
    page.evaluate("(id) => window.admin.showThread(id)", thread_id)
    expect(page.locator(".ck-admin-items .ck-item").first).to_be_visible()
    check_axe(page)  # a thread, rendered as its user saw it
    page.get_by_role("link", name="Workflows", exact=True).click()
    expect(page.locator("table.data")).to_be_visible()
    check_axe(page)
    # On a phone too, the page never scrolls sideways: wide tables scroll inside themselves.
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= innerWidth")


def test_the_chat_works_from_the_keyboard_alone(recorded, ui_user):
    page = open_playground(recorded, ui_user, workflow="widget-gallery")
    composer(page).focus()
    page.keyboard.type("gallery")
    page.keyboard.press("Enter")
    wait_idle(page)
    chat = page.locator("chatkitd-chat")
    active = "() => document.querySelector('chatkitd-chat').shadowRoot.activeElement"
    # Tab from the composer backwards reaches the widget's controls; Enter and Space use them.
    list_item = chat.locator("[data-widget-id=ListViewItem1]").get_by_role("button")
    list_item.focus()
    page.keyboard.press("Enter")
    expect(assistant_messages(page).last).to_contain_text("action pick")
    wait_idle(page)
    checkbox = chat.get_by_role("checkbox", name="I agree")
    checkbox.focus()
    page.keyboard.press("Space")
    expect(checkbox).to_be_checked()
    # Every focusable control of the chat is reachable with Tab, in order, and shows its focus.
    chat.get_by_role("button", name="Toggle history").focus()
    seen = []
    for _ in range(80):
        page.keyboard.press("Tab")
        info = page.evaluate(
            f"""() => {{
              const el = ({active})();
              if (!el) return null;
              const style = getComputedStyle(el);
              return {{ name: el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30),
                        outline: style.outlineStyle !== 'none' || style.boxShadow !== 'none' }};
            }}"""
        )
        if info is None:
            break
        seen.append(info)
    names = [s["name"] for s in seen]
    for wanted in (
        "New chat",
        "Confirm",
        "Search",
        "item 1",
        "Show 1 more",
        "Save",
        "Message",
        "Send message",
    ):
        assert wanted in names, (wanted, names)
    assert all(s["outline"] for s in seen), [s for s in seen if not s["outline"]]
    # The history drawer and its rows work from the keyboard too.
    chat.get_by_role("button", name="Toggle history").focus()
    page.keyboard.press("Enter")
    expect(chat.locator(".ck-history")).to_be_hidden()
    page.keyboard.press("Enter")
    expect(chat.locator(".ck-history")).to_be_visible()


def test_the_admin_console_works_from_the_keyboard_alone(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    hold_conversation(page)
    page.goto(recorded.server.base_url + "/admin")
    page.get_by_label("Admin key").focus()
    page.keyboard.type(ADMIN_KEY)
    page.keyboard.press("Enter")  # signs in
    expect(page.locator("table.data")).to_be_visible()

    def tab_to(name: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            label = page.evaluate(
                "() => { const el = document.activeElement;"
                " return el.getAttribute('aria-label') || el.textContent.trim(); }"
            )
            if label == name:
                visible = page.evaluate(
                    "() => getComputedStyle(document.activeElement).outlineStyle !== 'none'"
                )
                assert visible, f"{name} shows no focus"
                return
        raise AssertionError(f"Tab never reached {name}")

    tab_to("Threads")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Threads", exact=True)).to_be_visible()
    tab_to("Open thread hello admin")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Conversation").locator(".ck-item-user-message").first).to_be_visible()
    span = page.locator("details.span-row-details").first
    expect(span).to_be_visible()
    span.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(span.locator("dl.span-facts")).to_be_visible()
    page.keyboard.press("Enter")
    expect(span.locator("dl.span-facts")).to_be_hidden()
