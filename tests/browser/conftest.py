"""Browser fixtures: a real chatkitd on SQLite, and Debian's Chromium driven by Playwright.

Chromium is the system one at /usr/bin/chromium (CI installs it with apt-get);
no browser is ever downloaded. Without it these tests skip, saying why,
except in CI (``CI=true``), where that is a failure.

Every page records the requests it makes; a test fails if any of them goes to
a host other than the chatkitd server under test.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.servers import RunningServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_KEY = "sk-ui-" + secrets.token_hex(8)
# Workflows the browser tests deploy next to the built-in demo (render-echo: see its docstring).
WORKFLOWS = Path(__file__).parent / "workflows"
# The README's screenshots are rewritten only on request (`make screenshots`), so a
# test run leaves the work tree clean.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("CHATKITD_UPDATE_SCREENSHOTS") == "1"
    else Path(os.environ.get("TMPDIR", "/tmp")) / "chatkitd-screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `browser`, so `-m "not browser"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("ui")
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    with start_server(url, data_dir, ADMIN_KEY, mode="development", workflows_dir=WORKFLOWS) as running:
        yield running


# Module scope, not session: Playwright's sync API keeps an event loop running in
# this thread while it is open, and the PostgreSQL fixtures of later test modules
# need asyncio.run() here.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required in CI (.ci/run installs it with apt-get)")
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class RecordedPage:
    """A Playwright page plus every request URL and conversation body it sent."""

    def __init__(self, page, server: RunningServer) -> None:
        self.page = page
        self.server = server
        self.urls: list[str] = []
        self.operations: list[dict] = []
        self.errors: list[str] = []
        page.on("request", self._on_request)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _on_request(self, request) -> None:
        self.urls.append(request.url)
        if request.url.endswith("/v1/chatkit/conversation") and request.method == "POST":
            self.operations.append(request.post_data_json)

    def types(self) -> list[str]:
        return [op["type"] for op in self.operations]

    def foreign_requests(self) -> list[str]:
        host = urlsplit(self.server.base_url).netloc
        return [
            url
            for url in self.urls
            if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).netloc != host
        ]


@pytest.fixture
def recorded(browser, ui_server: RunningServer) -> Iterator[RecordedPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="en-US")
    context.set_default_timeout(15_000)
    page = RecordedPage(context.new_page(), ui_server)
    try:
        yield page
    finally:
        context.close()
    assert page.foreign_requests() == [], "the UI made requests beyond the chatkitd server"
    assert page.errors == [], f"uncaught errors in the page: {page.errors}"


@pytest.fixture
def ui_user() -> str:
    return f"ui_{uuid.uuid4().hex[:10]}"
