"""The admin console shows the conversation just held; the README's screenshots come from here."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, SCREENSHOTS
from tests.browser.support import assistant_messages, open_playground, send, wait_idle, words


def hold_conversation(page) -> str:
    """A conversation with a reply, a widget, tasks and a thumbs-up; returns its thread id."""
    send(page, "hello admin")
    expect(assistant_messages(page).last).to_contain_text("Echo: hello admin")
    wait_idle(page)
    send(page, "show a widget")
    expect(page.locator("chatkitd-chat .ck-w-card")).to_contain_text("Clicked 0 times")
    wait_idle(page)
    send(page, "think it through")
    expect(assistant_messages(page).last).to_contain_text("Done thinking.")
    wait_idle(page)
    good = words(page)["goodResponse"]
    assistant_messages(page).first.get_by_role("button", name=good).click()
    expect(assistant_messages(page).first.get_by_role("button", name=good)).to_have_attribute(
        "aria-pressed", "true"
    )
    return page.evaluate("() => window.playground.chat.thread.id")


def test_admin_console_shows_the_conversation_just_held(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    thread_id = hold_conversation(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "playground.png"))

    page.goto(recorded.server.base_url + "/admin")
    page.get_by_label("Admin key").fill("not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_have_text("That admin key was not accepted.")
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()

    # Sessions, with status; the user's link leads to their threads.
    session_row = page.locator("table.data tr", has_text=ui_user).first
    expect(session_row).to_contain_text("active")
    expect(session_row).to_contain_text("demo")
    session_row.get_by_role("button", name=f"Threads of {ui_user}").click()
    expect(page.get_by_role("heading", name=f"Threads of {ui_user}")).to_be_visible()
    thread_row = page.locator("table.data tbody tr")
    expect(thread_row).to_have_count(1)
    expect(thread_row).to_contain_text(thread_id)
    thread_row.get_by_role("button").first.click()

    # The items as the user saw them, through the same renderer, with the feedback.
    items = page.get_by_label("Conversation")
    expect(items.locator(".ck-item-user-message")).to_have_count(3)
    expect(items.locator(".ck-item-assistant-message").first).to_contain_text("Echo: hello admin")
    expect(items.locator(".ck-w-card")).to_contain_text("Demo counter")
    expect(items.locator(".ck-w-card").get_by_role("button", name="Click", exact=True)).to_be_disabled()
    expect(items.locator(".ck-workflow")).to_contain_text("Thought it through")
    expect(items.locator(".status[data-status=positive]")).to_have_count(1)
    # Traces render when the server records them; otherwise the panel says so.
    expect(page.locator(".thread-view .panel")).not_to_contain_text("Loading")
    page.screenshot(path=str(SCREENSHOTS / "admin.png"), full_page=True)

    page.get_by_role("link", name="Feedback", exact=True).click()
    feedback_row = page.locator("table.data tbody tr", has_text=thread_id)
    expect(feedback_row).to_contain_text("positive")
    expect(feedback_row).to_contain_text(ui_user)

    # The key lives in this tab's session storage only, and signing out forgets it.
    assert page.evaluate("() => sessionStorage.getItem('chatkitd.adminKey')") == ADMIN_KEY
    assert page.evaluate("() => localStorage.length") == 0
    page.get_by_role("button", name="Sign out").click()
    assert page.evaluate("() => sessionStorage.getItem('chatkitd.adminKey')") is None


def test_no_request_leaves_loopback_while_the_ui_runs(recorded, ui_user):
    """Every request the playground and console make goes to the chatkitd server."""
    page = open_playground(recorded, ui_user)
    hold_conversation(page)
    send(page, "use the tool")
    expect(assistant_messages(page).last).to_contain_text("get_client_info answered")
    wait_idle(page)
    page.goto(recorded.server.base_url + "/admin")
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("table.data")).to_be_visible()
    page.get_by_role("link", name="Threads", exact=True).click()
    page.locator("table.data tbody tr").first.get_by_role("button").first.click()
    expect(page.locator(".thread-view .panel")).not_to_contain_text("Loading")

    server = urlsplit(recorded.server.base_url)
    assert server.hostname == "127.0.0.1"
    assert len(recorded.urls) > 10
    assert recorded.foreign_requests() == []
    # The page's script, styles and API calls all came from the server itself.
    assert any(url.endswith("/static/playground.js") for url in recorded.urls)
    assert any(url.endswith("/v1/chatkit/conversation") for url in recorded.urls)
