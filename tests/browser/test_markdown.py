"""Assistant markdown in the browser: tables, highlighted code, KaTeX math, streaming, sanitizing.

The markdown reaches the chat from the render-echo test workflow, through the server
and the stream, a few characters per delta, as any model's answer would.
"""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.conftest import RecordedPage
from tests.browser.support import assistant_messages, open_playground, send, wait_idle

RICH_ANSWER = r"""## Results

| Name | Score |
|:-----|------:|
| Ada  | 10 |
| Alan | 9 |

```python
def square(x):
    return x * x  # a comment
```

Euler: $e^{i\pi} + 1 = 0$ and \(a^2 + b^2 = c^2\).

$$
\int_0^1 x\,dx = \frac{1}{2}
$$
"""


def last_markdown(page):
    return assistant_messages(page).last.locator(".ck-markdown").first


def test_tables_highlighted_code_and_math(recorded, ui_user):
    page = open_playground(recorded, ui_user, workflow="render-echo")
    send(page, "md:" + RICH_ANSWER)
    wait_idle(page)
    md = last_markdown(page)
    expect(md.locator("h4")).to_have_text("Results")  # the chat's own h2 comes first
    table = md.locator(".ck-table-wrap table")
    expect(table.locator("thead th")).to_have_text(["Name", "Score"])
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").nth(1).locator("td")).to_have_text(["Alan", "9"])
    assert table.locator("th").nth(1).evaluate("el => getComputedStyle(el).textAlign") == "right"

    code = md.locator(".ck-code")
    expect(code.locator(".ck-code-lang")).to_have_text("python")
    expect(code.get_by_role("button", name="Copy code")).to_be_visible()
    # highlight.js (rich.js, loaded on demand from chatkitd itself) coloured it.
    expect(code.locator("code .hljs-keyword").first).to_have_text("def")
    expect(code.locator("code .hljs-comment")).to_have_text("# a comment")
    assert code.locator("code").text_content() == "def square(x):\n    return x * x  # a comment"
    colour = code.locator(".hljs-keyword").first.evaluate("el => getComputedStyle(el).color")
    assert colour != code.locator("code").evaluate("el => getComputedStyle(el).color")

    # KaTeX typeset the three formulas; the display one is a block of its own.
    maths = md.locator(".ck-math[data-typeset] .katex")
    expect(maths).to_have_count(3)
    annotations = md.locator(".ck-math annotation").all_text_contents()
    assert [a.strip() for a in annotations] == [
        r"e^{i\pi} + 1 = 0",
        "a^2 + b^2 = c^2",
        r"\int_0^1 x\,dx = \frac{1}{2}",
    ]
    expect(md.locator(".ck-math[data-display='1'] .katex-display")).to_have_count(1)
    # KaTeX's own fonts, from chatkitd's /static, are in use.
    page.wait_for_function("() => document.fonts.check('16px KaTeX_Main')")
    assert any(url.endswith("/static/rich.js") for url in recorded.urls)
    assert any("/static/fonts/KaTeX_" in url for url in recorded.urls)


def test_markdown_renders_while_it_streams(recorded, ui_user):
    page = open_playground(recorded, ui_user, workflow="render-echo")
    rows = "\n".join(f"| row {i} | {i * i} |" for i in range(1, 7))
    maths = "$$\n\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\n$$"
    answer = f"| n | square |\n|:---|---:|\n{rows}\n\n{maths}\n\n```js\nconst a = 1;\nconst b = 2;\n```\ndone"
    # Record what the chat shows after each change while the answer streams in.
    page.evaluate(
        """() => {
          window.__seen = [];
          const root = document.querySelector("chatkitd-chat").shadowRoot;
          new MutationObserver(() => {
            const items = root.querySelectorAll(".ck-item-assistant-message");
            const last = items[items.length - 1];
            if (!last) return;
            window.__seen.push({
              streaming: last.classList.contains("ck-streaming"),
              rows: last.querySelectorAll("tbody tr").length,
              code: last.querySelector(".ck-code code")?.textContent ?? null,
              text: last.querySelector(".ck-markdown")?.innerText ?? "",
            });
          }).observe(root, { childList: true, subtree: true });
        }"""
    )
    send(page, "slow:" + answer)
    wait_idle(page)
    seen = page.evaluate("() => window.__seen")
    streaming = [s for s in seen if s["streaming"]]
    # The table grew row by row on screen, and the code block showed before its fence closed.
    row_counts = sorted({s["rows"] for s in streaming})
    assert len([n for n in row_counts if 0 < n < 6]) >= 3, row_counts
    partial_code = [s["code"] for s in streaming if s["code"] is not None]
    assert any(code != "const a = 1;\nconst b = 2;" for code in partial_code), partial_code
    assert seen[-1]["rows"] == 6
    # No frame showed raw syntax that then jumped: a table's delimiter row being typed (header
    # and all) or a display formula not yet closed waits for the rest, off screen.
    raw = [s["text"] for s in streaming if "|" in s["text"] or "$$" in s["text"] or "---" in s["text"]]
    assert raw == [], raw[:3]
    expect(last_markdown(page).locator(".ck-math[data-display='1'] .katex-display")).to_have_count(1)
    expect(last_markdown(page).locator(".ck-code .hljs-keyword").first).to_have_text("const")
    expect(last_markdown(page).locator("p").last).to_have_text("done")


PAYLOADS = [
    "<img src=x onerror=\"window.__pwned.push('img')\">",
    "<script>window.__pwned.push('script')</script>",
    "<svg onload=\"window.__pwned.push('svg')\"></svg>",
    "<iframe srcdoc=\"<script>parent.__pwned.push('iframe')</script>\"></iframe>",
    "[click me](javascript:window.__pwned.push('link'))",
    "<a href=\"javascript:window.__pwned.push('anchor')\">anchor</a>",
    "![pic](javascript:window.__pwned.push('image'))",
    r"$\href{javascript:window.__pwned.push('tex')}{formula}$",
    '```"><img src=x onerror="window.__pwned.push(\'fence\')">\ncode\n```',
    "<details open ontoggle=\"window.__pwned.push('details')\">x</details>",
]


def test_script_and_event_handler_payloads_never_run(browser, ui_server, ui_user):
    # No Content-Security-Policy here, as on many integrators' pages: only the
    # sanitizing stands between a model's answer and script.
    context = browser.new_context(viewport={"width": 1280, "height": 820}, bypass_csp=True)
    recorded = RecordedPage(context.new_page(), ui_server)
    try:
        page = open_playground(recorded, ui_user, workflow="render-echo")
        page.evaluate("() => { window.__pwned = []; }")
        answer = "\n\n".join(PAYLOADS)
        send(page, "md:" + answer)
        wait_idle(page)
        widget = {"type": "Card", "children": [{"type": "Markdown", "value": answer}]}
        send(page, "widget:" + json.dumps(widget))
        wait_idle(page)
        md = last_markdown(page)
        expect(md.locator(".ck-math[data-typeset]")).to_have_count(1)  # rich.js had its turn
        for link in md.locator("a").all():
            link.click(modifiers=["Alt"])  # javascript: links would run here
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__pwned") == []
        # A model's HTML shows as the text it is.
        expect(md).to_contain_text("<script>window.__pwned.push('script')</script>")
        expect(md).to_contain_text("<img src=x onerror=\"window.__pwned.push('img')\">")
        dangerous = page.evaluate(
            """() => {
              const root = document.querySelector("chatkitd-chat").shadowRoot;
              const found = [];
              for (const el of root.querySelectorAll(".ck-markdown *")) {
                const tag = el.tagName;
                if (["SCRIPT", "IFRAME", "IMG", "OBJECT", "EMBED"].includes(tag)) found.push(tag);
                for (const attr of el.attributes) {
                  if (attr.name.startsWith("on")) found.push(`${tag} ${attr.name}`);
                  if (/^\\s*javascript:/i.test(attr.value)) found.push(`${tag} ${attr.name}=${attr.value}`);
                }
              }
              return found;
            }"""
        )
        assert dangerous == []
        assert page.locator("chatkitd-chat [data-widget=Markdown]").count() == 1
    finally:
        context.close()
    assert recorded.errors == []
    assert recorded.foreign_requests() == []


SCRIPTY = "<img src=x onerror=\"window.__pwned.push('widget')\"><script>window.__pwned.push('s')</script>"
ELSEWHERE = "https://tracker.example/pixel.png"


def test_widget_text_links_and_images_stay_inert(browser, ui_server, ui_user):
    """Script in every text a widget carries shows as text; javascript: and foreign images are not
    loaded; a style value cannot smuggle in a URL. Nothing runs and no request leaves the server."""
    texts = {"type": "Text", "value": SCRIPTY}
    widget = {
        "type": "Card",
        "status": {"text": SCRIPTY, "favicon": ELSEWHERE},
        "confirm": {"label": SCRIPTY, "action": {"type": "x"}},
        "children": [
            {"type": "Title", "value": SCRIPTY},
            {"type": "Caption", "value": SCRIPTY},
            texts,
            {"type": "Badge", "label": SCRIPTY},
            {"type": "Label", "value": SCRIPTY, "fieldName": "f"},
            {"type": "Input", "name": "f", "placeholder": SCRIPTY, "defaultValue": SCRIPTY},
            {"type": "Button", "label": SCRIPTY, "onClickAction": {"type": "y"}},
            {"type": "Image", "src": "javascript:window.__pwned.push('src')", "alt": "js image"},
            {"type": "Image", "src": ELSEWHERE, "alt": "tracker"},
            {
                "type": "Image",
                "src": "data:text/html,<script>parent.__pwned.push('data')</script>",
                "alt": "html",
            },
            {
                "type": "Box",
                "background": f"url({ELSEWHERE})",
                "border": {"size": 1, "style": f"solid url({ELSEWHERE})", "color": f"url({ELSEWHERE})"},
                "children": [texts],
            },
            {
                "type": "Table",
                "children": [
                    {"type": "Table.Row", "children": [{"type": "Table.Cell", "children": [texts]}]}
                ],
            },
            {
                "type": "Chart",
                "data": [{"k": SCRIPTY, "v": 1}],
                "xAxis": "k",
                "series": [{"type": "bar", "dataKey": "v", "label": SCRIPTY, "color": f"url({ELSEWHERE})"}],
            },
        ],
    }
    context = browser.new_context(viewport={"width": 1280, "height": 820}, bypass_csp=True)
    recorded = RecordedPage(context.new_page(), ui_server)
    try:
        page = open_playground(recorded, ui_user, workflow="render-echo")
        page.evaluate("() => { window.__pwned = []; }")
        send(page, "widget:" + json.dumps(widget))
        wait_idle(page)
        card = page.locator("chatkitd-chat .ck-item-widget")
        expect(card.locator("[data-widget=Title]")).to_have_text(SCRIPTY)
        expect(card.get_by_role("button", name=SCRIPTY)).to_have_count(2)  # confirm and Button
        expect(card.locator("[data-widget=Input]")).to_have_value(SCRIPTY)
        expect(card.locator("img")).to_have_count(0)  # none of the three images loads
        expect(card.get_by_text("tracker")).to_be_visible()
        card.get_by_role("button", name=SCRIPTY).last.click()
        wait_idle(page)
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__pwned") == []
        found = page.evaluate(
            """() => {
              const root = document.querySelector("chatkitd-chat").shadowRoot;
              const out = [];
              for (const el of root.querySelectorAll(".ck-item-widget *")) {
                if (["SCRIPT", "IFRAME", "OBJECT", "EMBED"].includes(el.tagName)) out.push(el.tagName);
                for (const attr of el.attributes) if (attr.name.startsWith("on")) out.push(attr.name);
                if ((el.getAttribute("style") || "").includes("url(")) out.push(el.getAttribute("style"));
              }
              return out;
            }"""
        )
        assert found == []
    finally:
        context.close()
    assert recorded.errors == []
    assert recorded.foreign_requests() == []
