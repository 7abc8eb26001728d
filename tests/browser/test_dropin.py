"""<openai-chatkit> from chatkitd's /static/chatkit.js: ChatKit.js's options, methods and events.

Each test loads a page of a stand-in integrator (its own origin) that includes chatkitd's
script the way ChatKit's docs include the CDN's, a plain `<script src=… async>` in the head,
and configures the element with ChatKit.js's option names and shapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import ADMIN_KEY, WORKFLOWS
from tests.browser.integrator import chatkitd_and_integrator

# This box is shared and loaded: give streamed answers time (Playwright's default is 5 s).
expect.set_options(timeout=15_000)

EVENTS = [
    "chatkit.ready",
    "chatkit.error",
    "chatkit.log",
    "chatkit.effect",
    "chatkit.deeplink",
    "chatkit.response.start",
    "chatkit.response.end",
    "chatkit.thread.change",
    "chatkit.thread.load.start",
    "chatkit.thread.load.end",
    "chatkit.tool.change",
    "chatkit.history.open",
    "chatkit.history.close",
]

# The integrator's page: chatkitd's script in the head, async, as ChatKit's docs include
# the CDN's. `window.record` keeps every chatkit.* event (errors as their message).
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>My app</title>
  <script src="{{CHATKITD}}/static/chatkit.js" async></script>
</head>
<body>
  <main><openai-chatkit id="chat" style="display:block;height:640px"></openai-chatkit></main>
  <script>
    window.events = [];
    window.warnings = [];
    const warn = console.warn;
    console.warn = (...args) => { window.warnings.push(args.join(" ")); warn(...args); };
    window.chat = document.getElementById("chat");
    window.listen = () => {
      if (window.listening) return;
      window.listening = true;
      for (const name of __EVENTS__) {
        chat.addEventListener(name, (event) => {
          const error = event.detail && event.detail.error;
          const detail = error ? { error: error.message } : event.detail;
          window.events.push({ name, detail: detail === undefined ? null : detail });
        });
      }
    };
    window.secrets = [];
    window.session = async (workflow = "dropin-probe") => {
      const url = `/api/chatkit/session?workflow=${workflow}&user=${window.user}`;
      const response = await fetch(url, { method: "POST" });
      const { client_secret } = await response.json();
      window.secrets.push(client_secret);
      return client_secret;
    };
  </script>
</body>
</html>
""".replace("__EVENTS__", json.dumps(EVENTS))


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[tuple]:
    with chatkitd_and_integrator(
        tmp_path_factory.mktemp("dropin"), ADMIN_KEY, WORKFLOWS, mode="development"
    ) as both:
        both[1].add("/", PAGE)
        yield both


@pytest.fixture
def page(browser, servers, ui_user) -> Iterator[Page]:
    chatkitd, integrator = servers
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    hosts: set[str] = set()
    errors: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(integrator.origin + "/")
    page.evaluate(f"() => {{ window.user = {json.dumps(ui_user)}; }}")
    page.wait_for_function("() => customElements.get('openai-chatkit')")
    try:
        yield page
    finally:
        context.close()
    # Only the integrator's page and chatkitd were contacted: no CDN, no OpenAI.
    assert hosts <= {urlsplit(integrator.origin).netloc, urlsplit(chatkitd.base_url).netloc}
    assert errors == [], f"uncaught errors in the page: {errors}"


def configure(page: Page, options: str, wait_ready: bool = True) -> None:
    """setOptions with a JavaScript object literal (it may use `session`, the page's secret
    fetcher), listening to every chatkit.* event right after, as React's binding does."""
    page.evaluate(f"() => {{ chat.setOptions({options}); window.listen(); }}")
    if wait_ready:
        page.wait_for_function("() => window.events.some(e => e.name === 'chatkit.ready')")


def events(page: Page, name: str | None = None) -> list[dict]:
    recorded = page.evaluate("() => window.events")
    return [e for e in recorded if name is None or e["name"] == name]


def inner(page: Page, selector: str):
    return page.locator(f"openai-chatkit {selector}")


def send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill(text)
    box.press("Enter")


def replies(page: Page):
    return inner(page, ".ck-item-assistant-message")


def wait_idle(page: Page) -> None:
    expect(page.get_by_role("button", name="Send message")).to_be_visible()


HOSTED = "api: { getClientSecret: () => session() }"


# -- loading and the api option ---------------------------------------------------------------


def test_hosted_style_talks_to_the_chatkitd_that_served_the_script(page, servers):
    chatkitd, integrator = servers
    conversation = []
    page.on("request", lambda r: conversation.append(r.url) if r.url.endswith("/conversation") else None)
    configure(page, f"{{ {HOSTED} }}")
    assert [e["name"] for e in events(page)].count("chatkit.ready") == 1
    send(page, "hello")
    expect(replies(page).last).to_contain_text("Got text=hello")
    wait_idle(page)  # the answer shows before its stream ends (and chatkit.response.end fires)
    assert set(conversation) == {chatkitd.base_url + "/v1/chatkit/conversation"}
    names = [e["name"] for e in events(page)]
    assert names.index("chatkit.response.start") < names.index("chatkit.response.end")
    assert names.count("chatkit.ready") == 1  # once per element, not per response


def test_custom_style_uses_the_pages_fetch_and_sends_the_domain_key(page, servers):
    chatkitd, _ = servers
    seen = []
    page.on(
        "request",
        lambda r: seen.append(r.headers) if r.url.endswith("/conversation") and r.method == "POST" else None,
    )
    configure(
        page,
        f"""{{
          api: {{
            url: "{chatkitd.base_url}/v1/chatkit/conversation",
            domainKey: "domain_pk_test",
            fetch: async (url, init) => {{
              window.secret = window.secret || await session();
              window.customFetches = (window.customFetches || 0) + 1;
              const headers = {{ ...init.headers, Authorization: `Bearer ${{window.secret}}` }};
              return fetch(url, {{ ...init, headers }});
            }},
          }},
          composer: {{ attachments: {{ enabled: true }} }},
        }}""",
    )
    inner(page, "input[type=file]").set_input_files(
        [FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"notes\n")]
    )
    expect(inner(page, ".ck-pending-attachment")).to_have_attribute("data-status", "ready")
    send(page, "with a file")
    expect(replies(page).last).to_contain_text("Got text=with a file")
    expect(replies(page).last).to_contain_text("files=notes.txt")
    assert seen and all(h.get("chatkit-domain-key") == "domain_pk_test" for h in seen)
    assert page.evaluate("() => window.customFetches") >= 3  # create attachment, upload, send


@pytest.mark.parametrize("style", ["hosted", "custom"])
def test_direct_upload_strategy_posts_the_file_once_to_the_upload_url(page, servers, style):
    """`uploadStrategy: {type: "direct", uploadUrl}`: one multipart POST, no attachments.create;
    through the page's fetch in the custom style, with the element's secret in the hosted one."""
    chatkitd, _ = servers
    operations: list[str] = []
    uploads: list[dict] = []
    page.on(
        "request",
        lambda r: (
            operations.append(r.post_data_json["type"])
            if r.url.endswith("/conversation") and r.method == "POST"
            else uploads.append(r.headers)
            if r.url.endswith("/v1/chatkit/files") and r.method == "POST"
            else None
        ),
    )
    direct = f'uploadStrategy: {{ type: "direct", uploadUrl: "{chatkitd.base_url}/v1/chatkit/files" }}'
    if style == "custom":
        api = f"""url: "{chatkitd.base_url}/v1/chatkit/conversation", domainKey: "domain_pk_test",
          fetch: async (url, init) => {{
            window.secret = window.secret || await session();
            const headers = {{ ...init.headers, Authorization: `Bearer ${{window.secret}}` }};
            return fetch(url, {{ ...init, headers }});
          }}, {direct}"""
    else:
        api = f"getClientSecret: () => session(), {direct}"
    configure(page, f"{{ api: {{ {api} }}, composer: {{ attachments: {{ enabled: true }} }} }}")
    inner(page, "input[type=file]").set_input_files(
        [FilePayload(name="direct.txt", mimeType="text/plain", buffer=b"sent directly\n")]
    )
    expect(inner(page, ".ck-pending-attachment")).not_to_have_attribute("data-status", "uploading")
    expect(inner(page, ".ck-composer-error")).to_have_text("")
    expect(inner(page, ".ck-pending-attachment")).to_have_attribute("data-status", "ready")
    send(page, "direct upload")
    expect(replies(page).last).to_contain_text("files=direct.txt")
    assert len(uploads) == 1 and uploads[0]["authorization"].startswith("Bearer ")
    assert (uploads[0].get("chatkit-domain-key") == "domain_pk_test") == (style == "custom")
    assert "attachments.create" not in operations
    if style == "hosted":
        # The backend cancels the session: the next upload gets a 401, asks getClientSecret for
        # a new secret (with the old one) and goes through.
        wait_idle(page)
        _, integrator = servers
        first = page.evaluate("() => window.secrets[window.secrets.length - 1]")
        session = next(s for s in integrator.sessions if s["client_secret"] == first)
        integrator.client.beta.chatkit.sessions.cancel(session["id"])
        inner(page, "input[type=file]").set_input_files(
            [FilePayload(name="after.txt", mimeType="text/plain", buffer=b"after the cancel\n")]
        )
        expect(inner(page, ".ck-pending-attachment")).to_have_attribute("data-status", "ready")
        assert len(uploads) == 3  # refused once, then sent with the new secret
        assert (
            uploads[2]["authorization"]
            == f"Bearer {page.evaluate('() => window.secrets.at(-1)')}"
            != (f"Bearer {first}")
        )


def test_attachments_are_off_unless_the_page_enables_them(page):
    """ChatKit.js: no composer.attachments, no attachments, even when the session allows them."""
    configure(page, f"{{ {HOSTED} }}")
    attach = page.get_by_role("button", name="Attach files")
    expect(attach).to_be_hidden()
    configure(page, f"{{ {HOSTED}, composer: {{ attachments: {{ enabled: true }} }} }}", wait_ready=False)
    expect(attach).to_be_visible()


def test_script_loaded_after_the_element_exists_and_element_made_after_it_loaded(browser, servers, ui_user):
    """React renders <openai-chatkit> whenever it likes: before the async script ran, or after."""
    chatkitd, integrator = servers
    late = integrator.add(
        "/late",
        """<!doctype html><html><head><meta charset="utf-8"><title>late</title></head><body>
        <openai-chatkit id="early" style="display:block;height:500px"></openai-chatkit>
        <openai-chatkit id="assigned" style="display:block;height:300px"></openai-chatkit>
        <script>
          window.heard = [];
          const url = "/api/chatkit/session?workflow=dropin-probe&user=__USER__";
          const secret = async () => (await (await fetch(url, { method: "POST" })).json()).client_secret;
          const options = { api: { getClientSecret: secret } };
          // Options assigned as a property before the element is defined are applied on upgrade.
          const assigned = document.getElementById("assigned");
          assigned.options = { ...options, startScreen: { greeting: "Assigned early" } };
          // chatkit.ready comes once the options are applied and drawn: the greeting is there.
          assigned.addEventListener("chatkit.ready", () => {
            const greeting = assigned.shadowRoot.querySelector(".ck-greeting");
            const drawn = greeting.getBoundingClientRect().height > 0 ? "drawn" : "not drawn";
            window.heard.push(`assigned: ${greeting.textContent} (${drawn})`);
          });
          customElements.whenDefined("openai-chatkit").then(() => {
            const early = document.getElementById("early");
            early.setOptions(options);
            early.addEventListener("chatkit.ready", () => window.heard.push("early"));
            const made = document.createElement("openai-chatkit");
            made.setOptions(options);
            made.addEventListener("chatkit.ready", () => window.heard.push("made"));
            document.body.append(made);
          });
          setTimeout(() => {
            const script = document.createElement("script");
            script.src = "{{CHATKITD}}/static/chatkit.js";
            script.async = true;
            document.head.append(script);
          }, 200);
        </script></body></html>""".replace("__USER__", ui_user),
    )
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto(late)
        page.wait_for_function("() => window.heard.length === 3")
        assert sorted(page.evaluate("() => window.heard")) == [
            "assigned: Assigned early (drawn)",
            "early",
            "made",
        ]
        expect(page.locator("#assigned .ck-greeting")).to_have_text("Assigned early")
        page.locator("#early").get_by_role("textbox", name="Message", exact=True).fill("first")
        page.locator("#early").get_by_role("textbox", name="Message", exact=True).press("Enter")
        expect(page.locator("#early .ck-item-assistant-message")).to_contain_text("Got text=first")
        # <chatkitd-chat> is the same implementation under chatkitd's own name.
        assert page.evaluate(
            "() => customElements.get('openai-chatkit').prototype"
            " instanceof customElements.get('chatkitd-chat')"
        )
    finally:
        context.close()


def test_behind_a_proxy_under_a_path_the_hosted_style_keeps_the_path(browser, servers, ui_user):
    """chatkitd mounted at /chat on the app's own origin by a reverse proxy (here Playwright's
    routing): the script at /chat/static/chatkit.js talks to /chat/v1/chatkit/conversation."""
    chatkitd, integrator = servers
    url = integrator.add(
        "/proxied",
        """<!doctype html><html><head><meta charset="utf-8"><title>proxied</title>
        <script src="/chat/static/chatkit.js" async></script></head><body>
        <openai-chatkit id="chat" style="display:block;height:500px"></openai-chatkit>
        <script>
          const session = "/api/chatkit/session?workflow=dropin-probe&user=__USER__";
          const getClientSecret = async () =>
            (await (await fetch(session, { method: "POST" })).json()).client_secret;
          customElements.whenDefined("openai-chatkit").then(() => {
            chat.options = { api: { getClientSecret } };
          });
        </script></body></html>""".replace("__USER__", ui_user),
    )
    proxied: list[str] = []

    def proxy(route) -> None:
        target = route.request.url.replace(f"{integrator.origin}/chat/", f"{chatkitd.base_url}/", 1)
        proxied.append(urlsplit(target).path)
        route.fulfill(response=route.fetch(url=target))

    context = browser.new_context()
    context.set_default_timeout(15_000)
    context.route(f"{integrator.origin}/chat/**", proxy)
    hosts: set[str] = set()
    try:
        page = context.new_page()
        page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
        page.goto(url)
        box = page.get_by_role("textbox", name="Message", exact=True)
        box.fill("through the proxy")
        box.press("Enter")
        expect(page.locator("#chat .ck-item-assistant-message")).to_contain_text("Got text=through the proxy")
        # `options = ...` (as ChatKit.js's docs write it) is setOptions.
        assert page.evaluate("() => typeof chat.options.api.getClientSecret") == "function"
    finally:
        # A request still being proxied (the history's reload) must not fail a later test.
        context.unroute_all(behavior="ignoreErrors")
        context.close()
    assert "/v1/chatkit/conversation" in proxied and "/static/chatkit.js" in proxied
    assert hosts == {urlsplit(integrator.origin).netloc}  # the page saw only its own origin


def test_a_page_with_a_strict_csp_needs_only_chatkitds_origin_allowed(browser, servers, ui_user):
    """The README's CSP advice, on a page that allows nothing inline for styles: markdown, code
    (highlight.js, loaded lazily), math (KaTeX and its fonts), every widget and the theme's font
    all work with chatkitd's origin in script-src, style-src, img-src, font-src and connect-src."""
    from tests.browser.test_markdown import RICH_ANSWER
    from tests.browser.workflows.widget_gallery import GALLERY

    chatkitd, integrator = servers
    csp = (
        "default-src 'none'; script-src 'self' 'nonce-page' {{CHATKITD}}; style-src 'self' {{CHATKITD}}; "
        "img-src 'self' data: blob: {{CHATKITD}}; font-src {{CHATKITD}}; connect-src 'self' {{CHATKITD}}"
    )
    url = integrator.add(
        "/strict",
        """<!doctype html><html><head><meta charset="utf-8"><title>strict</title>
        <script src="{{CHATKITD}}/static/chatkit.js" async></script></head><body>
        <openai-chatkit id="chat"></openai-chatkit>
        <script nonce="page">
          window.violations = [];
          document.addEventListener("securitypolicyviolation",
            (e) => window.violations.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`));
          const session = "/api/chatkit/session?workflow=render-echo&user=__USER__";
          const getClientSecret = async () =>
            (await (await fetch(session, { method: "POST" })).json()).client_secret;
          const font = "{{CHATKITD}}/static/fonts/KaTeX_Main-Regular.woff2";
          customElements.whenDefined("openai-chatkit").then(() => chat.setOptions({
            api: { getClientSecret },
            theme: {
              colorScheme: "dark",
              typography: { fontFamily: "Probe", fontSources: [{ family: "Probe", src: font }] },
            },
          }));
        </script></body></html>""".replace("__USER__", ui_user),
        headers={"content-security-policy": csp},
    )
    context = browser.new_context()
    context.set_default_timeout(15_000)
    console: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.goto(url)
        box = page.get_by_role("textbox", name="Message", exact=True)
        box.fill("md:" + RICH_ANSWER)
        box.press("Enter")
        answer = page.locator("#chat .ck-item-assistant-message").last
        expect(answer.locator(".katex").first).to_be_visible()
        expect(answer.locator("code .hljs-keyword").first).to_have_text("def")
        page.wait_for_function(
            "() => document.fonts.check('16px KaTeX_Main') && document.fonts.check('16px Probe')"
        )
        # The table's right-aligned column, and KaTeX's layout (the fraction's 1 above its 2).
        score = answer.locator("td").nth(1)
        assert score.evaluate("el => getComputedStyle(el).textAlign") == "right"
        frac = answer.locator(".katex-display .mfrac .vlist span.mord").all()
        assert len(frac) >= 2 and frac[-1].bounding_box()["y"] < frac[0].bounding_box()["y"]
        # Every widget, charts included (the widget gallery's tree, through render-echo).
        box.fill("widget:" + json.dumps(GALLERY))
        box.press("Enter")
        expect(page.locator("#chat .ck-w-chart svg").first).to_be_visible()
        expect(page.locator("#chat [data-widget-id]").last).to_be_visible()
        violations = page.evaluate("() => window.violations")
    finally:
        context.close()
    assert violations == []
    assert not [line for line in console if "Content Security Policy" in line], console


def test_a_page_whose_backend_proxies_the_conversation_needs_no_cors_setting(browser, tmp_path, ui_user):
    """The custom style through the page's own backend (`url: "/chat-api"`, proxied here by
    Playwright's routing) with CHATKITD_CORS_ORIGINS unset: only the script, its lazily
    imported rich.js and KaTeX's fonts come from chatkitd, and code colours and math work."""
    from tests.browser.integrator import serve_integrator
    from tests.browser.test_markdown import RICH_ANSWER
    from tests.support.servers import free_port, start_server

    url = f"sqlite+aiosqlite:///{tmp_path / 'chatkitd.db'}"
    with start_server(url, tmp_path, ADMIN_KEY, workflows_dir=WORKFLOWS, mode="production") as chatkitd:
        assert not chatkitd.settings.cors_origins
        with serve_integrator(chatkitd.base_url, ADMIN_KEY, free_port()) as integrator:
            page_url = integrator.add(
                "/proxying",
                """<!doctype html><html><head><meta charset="utf-8"><title>proxying</title>
                <script src="{{CHATKITD}}/static/chatkit.js" async></script></head><body>
                <openai-chatkit id="chat" style="display:block;height:600px"></openai-chatkit>
                <script>
                  let secret = null;
                  const session = "/api/chatkit/session?workflow=render-echo&user=__USER__";
                  async function withSecret(url, init) {
                    if (!secret) {
                      secret = (await (await fetch(session, { method: "POST" })).json()).client_secret;
                    }
                    const headers = { ...init.headers, Authorization: `Bearer ${secret}` };
                    return fetch(url, { ...init, headers });
                  }
                  customElements.whenDefined("openai-chatkit").then(() => chat.setOptions({
                    api: { url: "/chat-api", domainKey: "domain_pk_app", fetch: withSecret },
                  }));
                </script></body></html>""".replace("__USER__", ui_user),
            )
            context = browser.new_context()
            context.set_default_timeout(15_000)
            context.route(
                f"{integrator.origin}/chat-api",
                lambda route: route.fulfill(
                    response=route.fetch(url=f"{chatkitd.base_url}/v1/chatkit/conversation")
                ),
            )
            warnings: list[str] = []
            try:
                page = context.new_page()
                page.on(
                    "console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None
                )
                page.goto(page_url)
                box = page.get_by_role("textbox", name="Message", exact=True)
                box.fill("md:" + RICH_ANSWER)
                box.press("Enter")
                answer = page.locator("#chat .ck-item-assistant-message").last
                expect(answer.locator("code .hljs-keyword").first).to_have_text("def")
                expect(answer.locator(".katex").first).to_be_visible()
                page.wait_for_function("() => document.fonts.check('16px KaTeX_Main')")
            finally:
                context.unroute_all(behavior="ignoreErrors")
                context.close()
    assert warnings == []


def test_an_api_with_neither_style_is_reported_and_talks_to_nobody(page, servers):
    _, integrator = servers
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    configure(page, "{ api: { domainKey: 'domain_pk_x' } }")
    page.wait_for_function("() => window.events.some(e => e.name === 'chatkit.log')")
    assert [e["detail"] for e in events(page, "chatkit.log")] == [
        {"name": "unsupported_option", "data": {"option": "api (needs getClientSecret, or url)"}}
    ]
    send(page, "anyone there?")
    page.wait_for_timeout(300)
    assert posts == []


def test_unsupported_option_is_reported_once_and_never_breaks_the_chat(page):
    prompt = "{ label: 'x', prompt: 'x', icon: 'no-such-icon' }"
    options = (
        f"{{ {HOSTED}, fancyMode: {{ enabled: true }}, startScreen: {{ prompts: [{prompt}] }},"
        # Dictation is supported (the composer's microphone): not reported.
        " composer: { dictation: { enabled: true },"
        " tools: [{ id: 't', label: 'T', icon: 'search', badge: 'new' }] },"
        # A language chatkitd has no translation for: shown in English, and said so.
        " locale: 'ko-KR' }"
    )
    configure(page, options)
    page.evaluate(f"() => chat.setOptions({options})")  # again: no second report
    page.wait_for_function("() => window.events.filter(e => e.name === 'chatkit.log').length >= 4")
    page.wait_for_timeout(100)
    logs = [e["detail"] for e in events(page, "chatkit.log")]
    assert logs == [
        {"name": "unsupported_option", "data": {"option": option}}
        for option in (
            "fancyMode",
            "locale=ko-KR",
            "startScreen.prompts[0].icon=no-such-icon",
            "composer.tools[0].badge",
        )
    ]
    expect(inner(page, ".ck-root")).to_have_attribute("lang", "en")
    assert not any("dictation" in w for w in page.evaluate("() => window.warnings"))
    warnings = page.evaluate("() => window.warnings")
    assert sum('"fancyMode"' in w for w in warnings) == 1
    send(page, "still works")
    expect(replies(page).last).to_contain_text("Got text=still works")


def test_every_method_of_the_types_is_there_under_both_names(page):
    """The methods @openai/chatkit's OpenAIChatKit declares (read from the installed types)."""
    from tests.test_chatkit_types import audit

    methods = audit()["methods"]
    assert "sendUserMessage" in methods
    missing = page.evaluate(
        """(methods) => ["openai-chatkit", "chatkitd-chat"].flatMap((name) => {
             const el = document.createElement(name);
             return methods.filter((m) => typeof el[m] !== "function").map((m) => `${name}.${m}`);
           })""",
        methods,
    )
    assert missing == []


# -- option groups -------------------------------------------------------------------------------


def test_theme_scheme_palette_typography_radius_and_density(page, servers):
    chatkitd, _ = servers
    font = f"{chatkitd.base_url}/static/fonts/KaTeX_Main-Regular.woff2"
    configure(
        page,
        f"""{{ {HOSTED}, theme: {{
          colorScheme: "dark", radius: "sharp", density: "compact",
          color: {{ accent: {{ primary: "#ff0000", level: 2 }},
                   surface: {{ background: "#102030", foreground: "#f0e0d0" }},
                   grayscale: {{ hue: 30, tint: 4, shade: 1 }} }},
          typography: {{ baseSize: 18, fontFamily: "ProbeFont, serif", fontFamilyMono: "ProbeMono, monospace",
                        fontSources: [{{ family: "ProbeFont", src: "{font}", weight: 400,
                                         display: "swap" }}] }},
        }} }}""",
    )
    root = inner(page, ".ck-root")
    expect(root).to_have_attribute("data-scheme", "dark")
    expect(root).to_have_attribute("data-radius", "sharp")
    expect(root).to_have_attribute("data-density", "compact")
    styles = root.evaluate(
        """el => { const s = getComputedStyle(el); return { bg: s.backgroundColor, fg: s.color,
           font: s.fontFamily, size: s.fontSize, radius: s.borderTopLeftRadius,
           accent: s.getPropertyValue('--ck-accent').trim(),
           border: s.getPropertyValue('--ck-border').trim() }; }"""
    )
    assert styles["bg"] == "rgb(16, 32, 48)" and styles["fg"] == "rgb(240, 224, 208)"
    assert styles["font"].startswith("ProbeFont") and styles["size"] == "18px" and styles["radius"] == "2px"
    assert styles["accent"] == "#ff0000" and "color-mix" in styles["border"]
    page.wait_for_function("() => document.fonts.check('16px ProbeFont')")
    # The string form is a colour scheme; grayscale alone tints the greys with its hue.
    configure(
        page,
        f"{{ {HOSTED}, theme: {{ color: {{ grayscale: {{ hue: 120, tint: 9 }} }} }} }}",
        wait_ready=False,
    )
    assert root.evaluate("el => el.style.getPropertyValue('--ck-surface')").startswith("hsl(120 27%")
    configure(page, f"{{ {HOSTED}, theme: 'dark' }}", wait_ready=False)
    expect(root).to_have_attribute("data-scheme", "dark")
    assert root.evaluate("el => el.style.getPropertyValue('--ck-accent')") == ""


def test_header_title_and_custom_actions(page):
    configure(
        page,
        f"""{{ {HOSTED}, header: {{ title: {{ text: "Support" }},
          leftAction: {{ icon: "settings-cog", onClick: () => window.clicked = "left" }},
          rightAction: {{ icon: "close", onClick: () => window.clicked = "right" }} }} }}""",
    )
    expect(inner(page, ".ck-title")).to_have_text("Support")
    inner(page, ".ck-header-button[data-side=left]").click()
    assert page.evaluate("() => window.clicked") == "left"
    inner(page, ".ck-header-button[data-side=right]").click()
    assert page.evaluate("() => window.clicked") == "right"
    send(page, "titles stay fixed")
    expect(replies(page).last).to_contain_text("Got text=titles stay fixed")
    expect(inner(page, ".ck-title")).to_have_text("Support")
    configure(page, f"{{ {HOSTED}, header: {{ enabled: false }} }}", wait_ready=False)
    expect(inner(page, ".ck-header")).to_be_hidden()


def test_history_option_and_show_hide_methods(page):
    configure(page, f"{{ {HOSTED}, history: {{ enabled: true, showDelete: false, showRename: false }} }}")
    send(page, "one thread")
    expect(inner(page, ".ck-thread-open")).to_have_count(1)
    expect(inner(page, ".ck-thread-rename")).to_have_count(0)
    expect(inner(page, ".ck-thread-delete")).to_have_count(0)
    page.evaluate("() => chat.hideHistory()")
    expect(inner(page, ".ck-history")).to_be_hidden()
    page.evaluate("() => chat.showHistory()")
    expect(inner(page, ".ck-history")).to_be_visible()
    names = [e["name"] for e in events(page) if e["name"].startswith("chatkit.history")]
    assert names == ["chatkit.history.close", "chatkit.history.open"]
    configure(page, f"{{ {HOSTED}, history: {{ enabled: false }} }}", wait_ready=False)
    expect(inner(page, ".ck-history")).to_be_hidden()
    expect(inner(page, ".ck-history-toggle")).to_be_hidden()


def test_initial_thread_frame_title_and_an_untitled_header(page):
    configure(page, f"{{ {HOSTED} }}")
    send(page, "open me later")
    expect(replies(page).last).to_contain_text("Got text=open me later")
    wait_idle(page)
    thread_id = events(page, "chatkit.thread.change")[-1]["detail"]["threadId"]
    # A new element on the same page, as a page that remembers the user's thread makes it.
    page.evaluate(
        f"""() => {{
          window.later = [];
          const el = document.createElement("openai-chatkit");
          el.id = "later";
          el.style.cssText = "display:block;height:500px";
          document.body.append(el);
          el.setOptions({{ {HOSTED}, initialThread: {json.dumps(thread_id)}, frameTitle: "Support chat",
                           header: {{ title: {{ enabled: false }} }} }});
          for (const name of ["chatkit.thread.load.start", "chatkit.thread.load.end", "chatkit.ready"]) {{
            el.addEventListener(name, (e) => window.later.push([name, e.detail && e.detail.threadId]));
          }}
        }}"""
    )
    later = page.locator("#later")
    expect(later.locator(".ck-item-assistant-message")).to_contain_text("Got text=open me later")
    expect(later.get_by_role("region", name="Support chat")).to_have_count(1)
    # The title is not shown (still there for screen readers, naming the log).
    expect(later.locator(".ck-title")).to_have_class(re.compile("ck-title-hidden"))
    assert later.locator(".ck-title").bounding_box()["width"] <= 1
    page.wait_for_function("() => window.later.length === 3")
    assert sorted(page.evaluate("() => window.later")) == sorted(
        [
            ["chatkit.ready", None],
            ["chatkit.thread.load.start", thread_id],
            ["chatkit.thread.load.end", thread_id],
        ]
    )


def test_set_composer_value_files_and_model_descriptions(page):
    configure(
        page,
        f"""{{ {HOSTED}, composer: {{ attachments: {{ enabled: true }},
          models: [{{ id: "m1", label: "Fast", description: "Quick answers" }}] }} }}""",
    )
    expect(page.get_by_role("option", name="Fast")).to_have_attribute("title", "Quick answers")
    page.evaluate(
        """() => chat.setComposerValue({ text: "see the file",
             files: [new File(["from the page\\n"], "page.txt", { type: "text/plain" })] })"""
    )
    expect(inner(page, ".ck-pending-attachment")).to_have_attribute("data-status", "ready")
    page.get_by_role("textbox", name="Message", exact=True).press("Enter")
    expect(replies(page).last).to_contain_text("Got text=see the file")
    expect(replies(page).last).to_contain_text("files=page.txt")


@pytest.mark.parametrize("auto_scroll", [True, False])
def test_thread_auto_scroll_follows_a_streaming_answer_only_when_asked(page, auto_scroll):
    configure(
        page,
        f"""{{ api: {{ getClientSecret: () => session("render-echo") }},
               thread: {{ autoScroll: {json.dumps(auto_scroll)} }} }}""",
    )
    send(page, "slow:" + "\n\n".join(f"paragraph{n}" for n in range(60)))
    expect(replies(page).last).to_contain_text("paragraph59")
    wait_idle(page)
    gap = inner(page, ".ck-scroller").evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight")
    assert (gap < 48) == auto_scroll, gap


def test_start_screen_greeting_and_prompts_with_icons(page):
    configure(
        page,
        f"""{{ {HOSTED}, startScreen: {{ greeting: "Welcome aboard", prompts: [
          {{ label: "Track an order", prompt: "where is my order", icon: "map-pin" }},
          {{ label: "Lucide", prompt: "lucide icon", icon: "lucide:globe" }},
          {{ label: "Ask Alice", prompt: [
            {{ type: "input_tag", id: "u_1", text: "Alice", interactive: true }},
            {{ type: "input_text", text: "what is new?" }}] }} ] }} }}""",
    )
    expect(inner(page, ".ck-greeting")).to_have_text("Welcome aboard")
    prompt = page.get_by_role("button", name="Track an order")
    expect(prompt.locator("svg[data-icon='map-pin'] path")).not_to_have_count(0)
    expect(page.get_by_role("button", name="Lucide").locator("svg[data-icon='lucide:globe']")).to_have_count(
        1
    )
    assert events(page, "chatkit.log") == []  # both icons are known
    prompt.click()
    expect(replies(page).last).to_contain_text("Got text=where is my order")
    wait_idle(page)
    # A prompt given as content: its tag goes with it. (Only on a new thread's start screen.)
    page.evaluate("() => chat.setThreadId(null)")
    page.get_by_role("button", name="Ask Alice").click()
    expect(replies(page).last).to_contain_text("Got text=what is new? tags=u_1:Alice")


def test_composer_placeholder_tools_and_models(page):
    configure(
        page,
        f"""{{ {HOSTED}, composer: {{ placeholder: "Ask us",
          tools: [{{ id: "search", label: "Search the web", shortLabel: "Search", icon: "globe", pinned: true,
                     placeholderOverride: "Search for…" }},
                  {{ id: "draw", label: "Draw", icon: "square-image", persistent: true }}],
          models: [{{ id: "small", label: "Small" }}, {{ id: "large", label: "Large", default: true }},
                   {{ id: "off", label: "Off", disabled: true }}] }} }}""",
    )
    box = page.get_by_role("textbox", name="Message", exact=True)
    expect(box).to_have_attribute("placeholder", "Ask us")
    pinned = page.get_by_role("button", name="Search the web")
    pinned.click()
    expect(pinned).to_have_attribute("aria-pressed", "true")
    expect(box).to_have_attribute("placeholder", "Search for…")
    send(page, "find it")
    expect(replies(page).last).to_contain_text("model=large tool=search")
    wait_idle(page)
    # A tool that is not persistent is cleared after sending; a persistent one stays.
    expect(pinned).to_have_attribute("aria-pressed", "false")
    page.get_by_role("combobox", name="Tool").select_option("draw")
    page.get_by_role("combobox", name="Model").select_option("small")
    send(page, "sketch")
    expect(replies(page).last).to_contain_text("model=small tool=draw")
    wait_idle(page)
    expect(page.get_by_role("combobox", name="Tool")).to_have_value("draw")
    assert page.get_by_role("option", name="Off").is_disabled()
    changes = [e["detail"] for e in events(page, "chatkit.tool.change")]
    assert changes == [{"toolId": "search"}, {"toolId": None}, {"toolId": "draw"}]


def test_composer_attachments_accept_and_per_type_sizes(page):
    configure(
        page,
        f"""{{ {HOSTED}, composer: {{ attachments: {{ enabled: true, maxCount: 3,
          accept: {{ "text/plain": [".txt"], "image/*": [".png"] }},
          maxSize: {{ "image/*": 100, "*": 1000 }} }} }} }}""",
    )
    file_input = inner(page, "input[type=file]")
    assert file_input.get_attribute("accept") == "text/plain,.txt,image/*,.png"
    error = inner(page, ".ck-composer-error")
    file_input.set_input_files([FilePayload(name="a.pdf", mimeType="application/pdf", buffer=b"%PDF")])
    expect(error).to_have_text("“a.pdf” is not a type of file this chat accepts.")
    file_input.set_input_files([FilePayload(name="a.png", mimeType="image/png", buffer=b"x" * 101)])
    expect(error).to_have_text("“a.png” is 101 bytes; the limit is 100 bytes per file.")
    file_input.set_input_files([FilePayload(name="a.txt", mimeType="text/plain", buffer=b"x" * 500)])
    expect(inner(page, ".ck-pending-attachment")).to_have_attribute("data-status", "ready")


def test_disclaimer_and_thread_item_actions(page):
    configure(
        page, f"{{ {HOSTED}, disclaimer: {{ text: 'Answers may be **wrong**.', highContrast: true }} }}"
    )
    disclaimer = inner(page, ".ck-disclaimer")
    expect(disclaimer).to_have_text("Answers may be wrong.")
    expect(disclaimer.locator("strong")).to_have_text("wrong")
    expect(disclaimer).to_have_class("ck-disclaimer ck-markdown ck-high-contrast")
    send(page, "rate me")
    expect(replies(page).last).to_contain_text("Got text=rate me")
    wait_idle(page)
    # ChatKit.js's defaults: no feedback or retry buttons unless asked for.
    expect(page.get_by_role("button", name="Good response")).to_have_count(0)
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    configure(page, f"{{ {HOSTED}, threadItemActions: {{ feedback: true, retry: true }} }}", wait_ready=False)
    # A new api object keeps the same conversation: the thread stays open.
    expect(replies(page)).to_have_count(1)
    page.get_by_role("button", name="Good response").click()
    expect(page.get_by_role("button", name="Good response")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()


def test_entities_tag_search_mention_click_and_preview(page):
    configure(
        page,
        f"""{{ {HOSTED}, entities: {{
          showComposerMenu: true,
          onTagSearch: async (query) => [
            {{ id: "u_1", title: "Alice", group: "People", interactive: true, data: {{ team: "red" }},
               icon: "profile" }},
            {{ id: "u_2", title: "Albert", group: "People" }},
            {{ id: "d_1", title: "Alpha plan", group: "Documents" }},
          ].filter((e) => e.title.toLowerCase().startsWith(query.toLowerCase())),
          onClick: (entity) => {{ window.clickedEntity = entity; }},
          onRequestPreview: async (entity) => ({{ preview: {{ type: "Card", children: [
            {{ type: "Text", value: `Preview of ${{entity.title}}` }}] }} }}),
        }} }}""",
    )
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill("ask @al")
    menu = inner(page, ".ck-tag-menu")
    expect(menu.get_by_role("option")).to_have_text(["Alice", "Albert", "Alpha plan"])
    expect(menu.locator(".ck-tag-group")).to_have_text(["People", "Documents"])
    expect(menu.get_by_role("option", name="Alice").locator("svg[data-icon='profile']")).to_have_count(1)
    box.press("ArrowDown")
    box.press("ArrowUp")
    box.press("Enter")  # picks Alice, does not send
    expect(inner(page, ".ck-composer-tag")).to_have_text("@Alice×")
    expect(box).to_have_value("ask ")
    page.get_by_role("button", name="Mention").click()
    expect(box).to_have_value("ask @")
    expect(menu.get_by_role("option")).to_have_count(3)
    box.press("Escape")
    box.fill("about her")
    box.press("Enter")
    expect(replies(page).last).to_contain_text("Got text=about her tags=u_1:Alice")
    tag = inner(page, ".ck-item-user-message .ck-tag")
    expect(tag).to_have_attribute("role", "button")
    tag.hover()
    expect(inner(page, ".ck-entity-preview")).to_contain_text("Preview of Alice")
    tag.click()
    assert page.evaluate("() => window.clickedEntity") == {
        "id": "u_1",
        "title": "Alice",
        "group": "People",
        "data": {"team": "red"},
        "interactive": True,
    }
    # Albert is not `interactive`: his tag is neither clicked nor previewed.
    wait_idle(page)
    # Leaving the box and coming straight back: the menu that opens stays open.
    page.evaluate("() => chat.shadowRoot.querySelector('.ck-input').blur()")
    box.fill("@alb")
    expect(menu.get_by_role("option")).to_have_text(["Albert"])
    page.wait_for_timeout(400)
    expect(menu.get_by_role("option")).to_have_text(["Albert"])
    box.press("Enter")
    box.fill("and him")
    box.press("Enter")
    expect(replies(page).last).to_contain_text("Got text=and him tags=u_2:Albert")
    albert = inner(page, ".ck-item-user-message").last.locator(".ck-tag")
    expect(albert).not_to_have_attribute("role", "button")
    page.evaluate("() => { window.clickedEntity = null; }")
    albert.hover()
    albert.click()
    assert page.evaluate("() => window.clickedEntity") is None
    expect(inner(page, ".ck-entity-preview")).to_be_hidden()


COMMANDS = """commands: { enabled: true,
  onSearch: async (query) => [
    { id: "assign", label: "Assign to", description: "Pick a person", icon: "user", group: "Team" },
    { id: "summarize", label: "Summarize", icon: "notebook", group: "Actions" },
  ].filter((c) => c.label.toLowerCase().includes(query.toLowerCase())),
  onSelect: async (command) => {
    window.selected = (window.selected || []).concat(command.id);
    if (command.id === "assign") {
      const people = [{ id: "pick-alice", label: "Alice" }, { id: "pick-bob", label: "Bob" }];
      return { type: "menu", commands: people };
    }
    if (command.id.startsWith("pick-")) {
      return { type: "entity", entity: { id: `u_${command.id.slice(5)}`, title: command.label } };
    }
    return undefined;
  },
}"""


def test_commands_slash_menu_with_the_composers_actions_entities_and_menus(page):
    from tests.browser.test_accessibility import check_axe

    configure(
        page,
        f"""{{ {HOSTED}, {COMMANDS}, composer: {{ attachments: {{ enabled: true }},
             tools: [{{ id: "search", label: "Search the web", icon: "globe" }}] }} }}""",
    )
    box = page.get_by_role("textbox", name="Message", exact=True)
    menu = inner(page, ".ck-command-menu")
    labels = menu.locator(".ck-suggestion-label")
    box.fill("/")
    # The composer's own actions, then the page's commands by group, with icons and descriptions.
    expect(labels).to_have_text(["Attach files", "Search the web", "Assign to", "Summarize"])
    expect(menu.locator(".ck-tag-group")).to_have_text(["Team", "Actions"])
    expect(menu.get_by_role("option", name="Assign to")).to_contain_text("Pick a person")
    expect(menu.get_by_role("option", name="Assign to").locator("svg[data-icon='user']")).to_have_count(1)
    check_axe(page)
    # Nothing comes back: the page did something itself; the typed command is gone.
    box.fill("/sum")
    expect(labels).to_have_text(["Summarize"])
    box.press("Enter")
    expect(menu).to_be_hidden()
    expect(box).to_have_value("")
    assert page.evaluate("() => window.selected") == ["summarize"]
    # Another menu, narrowed by typing, then an entity: a tag sent with the message.
    box.fill("/ass")
    box.press("Enter")
    expect(labels).to_have_text(["Alice", "Bob"])
    expect(box).to_have_value("/")
    box.press_sequentially("b")
    expect(labels).to_have_text(["Bob"])
    box.press("Enter")
    expect(inner(page, ".ck-composer-tag")).to_have_text("@Bob×")
    expect(box).to_have_value("")
    box.fill("about him")
    box.press("Enter")
    expect(replies(page).last).to_contain_text("Got text=about him tags=u_bob:Bob")
    wait_idle(page)
    # A composer action: the tool is selected.
    box.fill("/search")
    box.press("Enter")
    expect(page.get_by_role("combobox", name="Tool")).to_have_value("search")
    expect(box).to_have_value("")
    # Escape closes the menu; a "/" message nothing matches is sent as it is.
    box.fill("/")
    box.press("Escape")
    expect(menu).to_be_hidden()
    box.fill("/nothing-matches")
    expect(menu).to_be_hidden()
    box.press("Enter")
    expect(replies(page).last).to_contain_text("Got text=/nothing-matches")
    assert events(page, "chatkit.log") == []
    assert page.evaluate("() => window.selected") == ["summarize", "assign", "pick-bob"]
    # Without `enabled`, no menu.
    configure(
        page, f"{{ {HOSTED}, {COMMANDS.replace('enabled: true', 'enabled: false')} }}", wait_ready=False
    )
    box.fill("/")
    page.wait_for_timeout(200)
    expect(menu).to_be_hidden()


def test_widgets_on_action_then_send_custom_action(page):
    configure(
        page,
        """{ api: { getClientSecret: () => session("render-echo") },
          widgets: { onAction: async (action, item) => {
            window.handled = { action, itemId: item.id, widgetType: item.widget.type };
            await chat.sendCustomAction({ type: "server.followup", payload: { from: action.type } }, item.id);
          } } }""",
    )
    widget = {
        "type": "Card",
        "children": [
            {
                "type": "Button",
                "label": "Local",
                "onClickAction": {"type": "local.open", "handler": "client", "payload": {"id": 7}},
            }
        ],
    }
    send(page, "widget:" + json.dumps(widget))
    page.get_by_role("button", name="Local").click()
    expect(replies(page).last).to_contain_text('action server.followup {"from": "local.open"}')
    handled = page.evaluate("() => window.handled")
    assert handled["action"] == {"type": "local.open", "payload": {"id": 7}}
    assert handled["itemId"].startswith("cthi_") and handled["widgetType"] == "Card"


def test_on_client_tool_in_chatkit_js_form(page):
    configure(
        page,
        """{ api: { getClientSecret: () => session("demo") },
             onClientTool: async ({ name, params }) => ({ answered: name, fields: params.fields }) }""",
    )
    send(page, "use the tool")
    expect(replies(page).last).to_contain_text(
        "The client tool get_client_info answered: "
        '{"answered": "get_client_info", "fields": ["locale", "time"]}'
    )


# -- methods and the remaining events ---------------------------------------------------------------


def test_send_user_message_and_set_composer_value(page):
    configure(
        page,
        f"{{ {HOSTED}, composer: {{ tools: [{{ id: 'search', label: 'Search', icon: 'search' }}],"
        " models: [{ id: 'm1', label: 'M1' }, { id: 'm2', label: 'M2' }] } }",
    )
    page.evaluate(
        "() => chat.sendUserMessage({ text: 'direct', reply: 'earlier words', model: 'm2',"
        " toolChoice: { id: 'search' } })"
    )
    expect(replies(page).last).to_contain_text(
        "Got text=direct tags= quoted=earlier words model=m2 tool=search"
    )
    wait_idle(page)
    # The composer itself is untouched by sendUserMessage.
    expect(page.get_by_role("combobox", name="Model")).to_have_value("m1")
    page.evaluate(
        """() => chat.setComposerValue({ content: [{ type: 'input_tag', id: 'p_9', text: 'Pat' },
               { type: 'input_text', text: 'prefilled' }],
             reply: 'quote me', selectedToolId: 'search', selectedModelId: 'm2' })"""
    )
    box = page.get_by_role("textbox", name="Message", exact=True)
    expect(box).to_have_value("prefilled")
    expect(inner(page, ".ck-reply-text")).to_have_text("quote me")
    box.press("Enter")
    expect(replies(page).last).to_contain_text(
        "Got text=prefilled tags=p_9:Pat quoted=quote me model=m2 tool=search"
    )
    wait_idle(page)
    page.evaluate("() => chat.sendUserMessage({ text: 'fresh', newThread: true })")
    expect(replies(page)).to_have_count(1)
    expect(replies(page).last).to_contain_text("Got text=fresh")
    assert [e["detail"]["threadId"] is None for e in events(page, "chatkit.thread.change")].count(True) == 1


def test_attachments_the_pages_server_uploaded_are_sent_and_prefilled(page, servers):
    """sendUserMessage({attachments}) and setComposerValue({attachments}): ChatKit.js's
    `Attachment`s the page's server already uploaded (here to chatkitd's /v1/chatkit/files)."""
    import httpx

    chatkitd, _ = servers
    configure(page, f"{{ {HOSTED}, composer: {{ attachments: {{ enabled: true }} }} }}")
    page.wait_for_function("() => window.secrets.length > 0")
    secret = page.evaluate("() => window.secrets.at(-1)")

    def uploaded(name: str) -> dict:
        response = httpx.post(
            chatkitd.base_url + "/v1/chatkit/files",
            headers={"authorization": f"Bearer {secret}"},
            files={"file": (name, b"uploaded by the server\n", "text/plain")},
        )
        response.raise_for_status()
        return response.json()

    first, second = uploaded("first.txt"), uploaded("second.txt")
    assert first["type"] == "file" and first["name"] == "first.txt"
    page.evaluate("(a) => chat.sendUserMessage({ text: 'sent with one', attachments: [a] })", first)
    expect(replies(page).last).to_contain_text("Got text=sent with one")
    expect(replies(page).last).to_contain_text("files=first.txt")
    wait_idle(page)
    page.evaluate("(a) => chat.setComposerValue({ text: 'prefilled with one', attachments: [a] })", second)
    expect(inner(page, ".ck-pending-attachment")).to_have_attribute("data-status", "ready")
    page.get_by_role("textbox", name="Message", exact=True).press("Enter")
    expect(replies(page).last).to_contain_text("files=second.txt")


def test_set_thread_id_fetch_updates_focus_and_thread_events(page, servers):
    chatkitd, _ = servers
    configure(page, f"{{ {HOSTED} }}")
    send(page, "remember me")
    expect(replies(page).last).to_contain_text("Got text=remember me")
    wait_idle(page)
    thread_id = events(page, "chatkit.thread.change")[-1]["detail"]["threadId"]
    page.evaluate("() => chat.setThreadId(null)")
    expect(replies(page)).to_have_count(0)
    page.evaluate(f"() => chat.setThreadId({json.dumps(thread_id)})")
    expect(replies(page).last).to_contain_text("Got text=remember me")
    names = [(e["name"], (e["detail"] or {}).get("threadId")) for e in events(page)]
    start = names.index(("chatkit.thread.load.start", thread_id))
    assert names[start:].count(("chatkit.thread.load.end", thread_id)) == 1
    assert ("chatkit.thread.change", None) in names and names[-1][0] in (
        "chatkit.thread.load.end",
        "chatkit.thread.change",
    )
    # The server changes the thread behind the element's back; fetchUpdates shows it.
    secret = page.evaluate("() => window.secrets[window.secrets.length - 1]")
    import httpx

    httpx.post(
        chatkitd.base_url + "/v1/chatkit/conversation",
        headers={"authorization": f"Bearer {secret}"},
        json={"type": "threads.update", "params": {"thread_id": thread_id, "title": "Renamed elsewhere"}},
    ).raise_for_status()
    page.evaluate("() => chat.fetchUpdates()")
    expect(inner(page, ".ck-title")).to_have_text("Renamed elsewhere")
    expect(inner(page, ".ck-thread-open")).to_have_text(["Renamed elsewhere"])
    page.evaluate("() => chat.focusComposer()")
    assert page.evaluate("() => chat.shadowRoot.activeElement.getAttribute('aria-label')") == "Message"
    # An unknown thread is a chatkit.error, and the chat goes on.
    page.evaluate("() => chat.setThreadId('cthr_nope')")
    page.wait_for_function("() => window.events.some(e => e.name === 'chatkit.error')")
    assert "not found" in events(page, "chatkit.error")[-1]["detail"]["error"].lower()


def test_effect_and_deeplink_events(page):
    configure(page, f"{{ {HOSTED} }}")
    send(page, "effect:confetti")
    expect(replies(page).last).to_contain_text("Effect sent")
    assert [e["detail"] for e in events(page, "chatkit.effect")] == [{"name": "confetti", "data": {"n": 1}}]
    wait_idle(page)
    send(page, "link")
    link = replies(page).last.get_by_role("link", name="order 42")
    link.click()
    assert [e["detail"] for e in events(page, "chatkit.deeplink")] == [
        {"name": "orders/open", "data": {"id": "42"}}
    ]
    assert page.url.endswith("/")  # the page did not navigate


def test_a_message_sent_by_the_page_during_a_response_goes_out_after_it(page):
    """sendUserMessage (or sendCustomAction, from a widget's onAction) while an answer streams
    waits for it, instead of being dropped."""
    configure(page, """{ api: { getClientSecret: () => session("render-echo") } }""")
    send(page, "slow:" + " ".join(f"word{n}" for n in range(40)))
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    page.evaluate("() => { window.sent = chat.sendUserMessage({ text: 'queued' }); }")
    expect(replies(page)).to_have_count(2)
    expect(replies(page).last).to_have_text("Echo: queued")
    expect(replies(page).first).to_contain_text("word39")


def test_the_option_driven_parts_pass_axe(page):
    """Header actions, pinned tools, the tag menu and chips, the reply quote, the disclaimer and
    prompt icons: no serious or critical axe-core violation."""
    from tests.browser.test_accessibility import check_axe

    configure(
        page,
        f"""{{ {HOSTED}, header: {{ leftAction: {{ icon: "settings-cog", onClick: () => {{}} }} }},
          startScreen: {{ prompts: [{{ label: "Track", prompt: "track", icon: "map-pin" }}] }},
          composer: {{ tools: [{{ id: "search", label: "Search", icon: "globe", pinned: true }}],
                       models: [{{ id: "m1", label: "M1" }}] }},
          disclaimer: {{ text: "Answers may be wrong." }},
          entities: {{ showComposerMenu: true,
                       onTagSearch: async () => [{{ id: "u1", title: "Alice", group: "People" }}],
                       onClick: () => {{}} }} }}""",
    )
    page.evaluate("() => chat.setComposerValue({ reply: 'an earlier answer' })")
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill("@a")
    expect(inner(page, ".ck-tag-menu").get_by_role("option")).to_have_text(["Alice"])
    check_axe(page)
    box.press("Enter")
    expect(inner(page, ".ck-composer-tag")).to_have_count(1)
    box.fill("about her")
    box.press("Enter")
    expect(replies(page).last).to_contain_text("tags=u1:Alice")
    check_axe(page)
