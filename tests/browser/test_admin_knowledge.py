"""The admin console's Knowledge pages: stores, files with their status and errors, and a search."""

from __future__ import annotations

import io

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, SCREENSHOTS

BROKEN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage"


def test_stores_files_errors_and_a_search_with_ranked_chunks(recorded):
    server = recorded.server
    with server.sdk(ADMIN_KEY) as sdk:
        store = sdk.vector_stores.create(name="Console handbook")
        good = sdk.vector_stores.files.upload_and_poll(
            vector_store_id=store.id,
            file=("parking.md", io.BytesIO(b"# Parking\n\nVisitors park on level minus two, bay 14.")),
            poll_interval_ms=50,
        )
        bad = sdk.vector_stores.files.upload_and_poll(
            vector_store_id=store.id, file=("broken.pdf", io.BytesIO(BROKEN_PDF)), poll_interval_ms=50
        )
    assert good.status == "completed" and bad.status == "failed"
    page = recorded.page
    page.goto(server.base_url + "/admin")
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Knowledge", exact=True).click()
    row = page.locator("table.data tr", has_text=store.id)
    expect(row).to_contain_text("1 ready, 1 failed")
    expect(page.locator("table.data tr", has_text="parking.md")).to_have_count(1)  # the Files list
    row.get_by_role("button", name="Open store Console handbook").click()

    expect(page.get_by_role("heading", name="Console handbook")).to_be_visible()
    failed = page.locator("table.data tr", has_text="broken.pdf")
    expect(failed.locator(".status")).to_have_text("failed")
    expect(failed).to_contain_text("invalid_file")  # the error, as last_error says it
    expect(page.locator("table.data tr", has_text="parking.md").locator(".status")).to_have_text("completed")

    page.get_by_label("Search query").fill("where do visitors park")
    page.get_by_role("button", name="Search", exact=True).click()
    results = page.locator(".search-results table.data tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("parking.md")
    expect(results.first).to_contain_text("level minus two, bay 14")
    page.screenshot(path=str(SCREENSHOTS / "admin-knowledge.png"), full_page=True)

    page.get_by_role("button", name="Show failed files").click()
    expect(page.locator("table.data tbody tr", has_text="parking.md")).to_have_count(0)
    expect(page.locator("table.data tbody tr", has_text="broken.pdf")).to_have_count(1)
