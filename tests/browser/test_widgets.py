"""Every widget component, one browser test each, as the widget-gallery workflow sends them.

The gallery (tests/browser/workflows/widget_gallery.py) reaches the chat through the
server and the stream like any workflow's widget; one page shows it, and each test
checks one component there. A last test proves the gallery and these checks cover
every component type of ``chatkit.widgets`` and of ChatKit.js's types.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import RecordedPage
from tests.browser.support import assistant_messages, open_playground, send, wait_idle
from tests.browser.workflows.widget_gallery import GALLERY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gallery(browser, ui_server) -> Iterator[RecordedPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    recorded = RecordedPage(context.new_page(), ui_server)
    page = open_playground(recorded, f"ui_{uuid.uuid4().hex[:10]}", workflow="widget-gallery")
    send(page, "show every widget")
    wait_idle(page)
    expect(page.locator("chatkitd-chat [data-widget=Basic]")).to_be_visible()
    try:
        yield recorded
    finally:
        context.close()
    assert recorded.foreign_requests() == []
    assert recorded.errors == []


def w(page: Page, widget_id: str) -> Locator:
    return page.locator(f'chatkitd-chat [data-widget-id="{widget_id}"]')


def style(locator: Locator, prop: str) -> str:
    return locator.evaluate(f"el => getComputedStyle(el).{prop}")


def reply_after_action(page: Page, text: str) -> None:
    expect(assistant_messages(page).last).to_contain_text(text)
    wait_idle(page)


def check_basic(page):
    el = w(page, "Basic")
    expect(el.locator("> [data-widget=Card]")).to_have_count(1)
    assert style(el, "flexDirection") == "column"
    assert style(el, "gap") == "12px"


def check_card(page):
    card = w(page, "Card")
    expect(card.locator(".ck-w-status")).to_have_text("From the gallery")
    expect(card.locator(".ck-w-status svg[data-icon=sparkle]")).to_have_count(1)
    assert card.get_attribute("data-size") == "lg"
    card.get_by_role("button", name="Confirm").click()
    reply_after_action(page, "action confirm")


def check_title(page):
    el = w(page, "Title")
    expect(el).to_have_text("Every widget")
    assert el.evaluate("el => el.tagName") == "H3"
    assert style(el, "fontSize") == "20px"


def check_caption(page):
    expect(w(page, "Caption")).to_have_text("a caption")
    assert style(w(page, "Caption"), "fontSize") == "12px"


def check_text(page):
    el = w(page, "Text")
    expect(el).to_have_text("Struck through")
    assert "line-through" in style(el, "textDecorationLine")
    assert style(el, "color") == "rgb(185, 28, 28)"  # the danger token, light scheme


def check_markdown(page):
    expect(w(page, "Markdown").locator("strong")).to_have_text("bold")
    expect(w(page, "Markdown").locator("code")).to_have_text("code")


def check_badge(page):
    el = w(page, "Badge")
    expect(el).to_have_text("new")
    assert "ck-pill" in (el.get_attribute("class") or "")
    assert style(el, "color") == "rgb(22, 101, 52)"  # the success token


def check_divider(page):
    el = w(page, "Divider")
    assert el.evaluate("el => el.tagName") == "HR"
    assert style(el, "marginTop") == "8px"


def check_row(page):
    assert style(w(page, "Row"), "flexDirection") == "row"
    assert style(w(page, "Row"), "gap") == "8px"


def check_col(page):
    assert style(w(page, "Col"), "flexDirection") == "column"


def check_box(page):
    assert style(w(page, "Box"), "paddingTop") == "8px"


def check_spacer(page):
    assert style(w(page, "Spacer"), "flexGrow") == "1"
    box = w(page, "Spacer").bounding_box()
    assert box is not None and box["width"] > 100


def check_icon(page):
    svg = w(page, "Icon").locator("svg[data-icon=star-filled]")
    expect(svg).to_have_count(1)
    assert svg.get_attribute("width") == "20"
    assert svg.get_attribute("fill") == "currentColor"
    assert svg.locator("path").count() >= 1
    assert style(w(page, "Icon"), "color") == "rgb(146, 64, 14)"  # the warning token


def check_image(page):
    img = w(page, "Image")
    assert img.evaluate("el => el.tagName") == "IMG"
    page.wait_for_function(
        "() => document.querySelector('chatkitd-chat').shadowRoot"
        ".querySelector('[data-widget-id=Image]').naturalWidth === 1"
    )
    expect(img).to_have_attribute("alt", "dot")


def check_button(page):
    button = w(page, "Button")
    expect(button).to_have_accessible_name("Search")
    expect(button.locator("svg[data-icon=search]")).to_have_count(1)
    button.click()
    reply_after_action(page, "action search")


def check_transition(page):
    el = w(page, "Transition")
    expect(el).to_have_text("slides in")
    assert style(el, "animationName") == "ck-enter"


def check_list_view(page):
    items = w(page, "ListView").locator("li")
    expect(items.nth(0)).to_be_visible()
    expect(items.nth(1)).to_be_visible()
    expect(items.nth(2)).to_be_hidden()  # limit 2
    w(page, "ListView").get_by_role("button", name="Show 1 more").click()
    expect(items.nth(2)).to_be_visible()


def check_list_view_item(page):
    item = w(page, "ListViewItem2")
    assert item.evaluate("el => el.tagName") == "LI"  # still a list item, holding the button
    item.get_by_role("button", name="item 2").press("Enter")
    reply_after_action(page, "action pick {'n': 2}")


def check_form(page):
    form = w(page, "Form")
    form.get_by_role("textbox", name="Note").fill("typed")
    form.get_by_role("button", name="Save").click()
    reply_after_action(page, "action save")
    expect(assistant_messages(page).last).to_contain_text("'note': 'typed'")
    expect(assistant_messages(page).last).to_contain_text("'colour': 'blue'")


def check_label(page):
    label = w(page, "Label")
    assert label.evaluate("el => el.tagName") == "LABEL"
    # Tied to the field it names: the field is found by the label's text.
    expect(w(page, "Form").get_by_label("Your name")).to_have_value("Ada")


def check_input(page):
    expect(w(page, "Input")).to_have_value("Ada")
    assert w(page, "Input").get_attribute("name") == "name"


def check_textarea(page):
    el = w(page, "Textarea")
    assert el.evaluate("el => el.tagName") == "TEXTAREA"
    expect(el).to_have_attribute("placeholder", "Note")


def check_select(page):
    expect(w(page, "Select")).to_have_value("l")
    expect(w(page, "Select").locator("option")).to_have_text(["Small", "Large"])


def check_checkbox(page):
    box = w(page, "Checkbox").get_by_role("checkbox", name="I agree")
    expect(box).not_to_be_checked()
    box.check()
    expect(box).to_be_checked()


def check_radio_group(page):
    group = page.locator("chatkitd-chat").get_by_role("radiogroup", name="Colour")
    expect(group.get_by_role("radio", name="Blue")).to_be_checked()
    expect(group.get_by_role("radio", name="Red")).not_to_be_checked()


def check_date_picker(page):
    el = w(page, "DatePicker")
    expect(el).to_have_attribute("type", "date")
    expect(el).to_have_value("2026-01-02")


def check_table(page):
    table = w(page, "Table").locator("table")
    expect(table.locator("thead th")).to_have_text(["City", "People"])
    expect(table.locator("tbody tr")).to_have_count(2)


def check_table_row(page):
    header = w(page, "Table.Row")
    assert header.evaluate("el => el.parentElement.tagName") == "THEAD"
    expect(header.locator("th[scope=col]")).to_have_count(2)


def check_table_cell(page):
    expect(w(page, "Table.Cell")).to_have_text("Lyon")
    table = w(page, "Table")
    assert style(table.locator("tbody td").nth(1), "textAlign") == "end"
    assert table.locator("tbody tr").nth(1).locator("td").get_attribute("colspan") == "2"


def check_bar_chart(page):
    chart = w(page, "BarChart")
    svg = chart.locator("svg[role=img]")
    expect(svg).to_have_attribute("aria-label", "Online, Store, and Returns by month")
    online = chart.locator("[data-series=online] rect")
    store = chart.locator("[data-series=store] rect")
    returns = chart.locator("[data-series=returns] rect")
    expect(online).to_have_count(4)
    expect(returns).to_have_count(4)
    box = lambda r: {k: float(r.get_attribute(k)) for k in ("x", "y", "width", "height")}  # noqa: E731
    for i in range(4):
        low, high, neg = box(online.nth(i)), box(store.nth(i)), box(returns.nth(i))
        # Stacked: Store sits on Online, in the same column.
        assert abs(high["y"] + high["height"] - low["y"]) < 0.01 and high["x"] == low["x"]
        # Unstacked Returns stand beside the stack, below the zero line.
        assert neg["x"] > low["x"] and neg["y"] >= low["y"] + low["height"] - 0.01
    # Heights are proportional to the values (12 and 22 online in Jan and Apr).
    assert abs(box(online.nth(3))["height"] / box(online.nth(0))["height"] - 22 / 12) < 0.01
    expect(online.nth(0).locator("title")).to_have_text("Jan · Online: 12")
    expect(chart.locator(".ck-chart-x text")).to_have_text(["Jan", "Feb", "Mar", "Apr"])
    assert chart.locator(".ck-chart-grid text").count() >= 3  # the y axis
    expect(chart.locator(".ck-chart-legend li")).to_have_text(["Online", "Store", "Returns"])
    assert online.first.evaluate("el => getComputedStyle(el).fill") == "rgb(59, 130, 246)"


def check_line_chart(page):
    chart = w(page, "LineChart")
    paths = chart.locator("path.ck-chart-line-path")
    expect(paths).to_have_count(2)
    assert re.match(r"^M[\d.]+,[\d.]+C", paths.first.get_attribute("d") or "")  # monotone: a curve
    assert re.match(r"^M[\d.]+,[\d.]+L", paths.nth(1).get_attribute("d") or "")  # linear
    expect(chart.locator("circle")).to_have_count(8)
    assert paths.nth(1).evaluate("el => getComputedStyle(el).stroke") == "rgb(21, 128, 61)"
    expect(chart.locator(".ck-chart-x text")).to_have_text(["jan", "feb", "mar", "apr"])
    expect(chart.locator(".ck-chart-grid text")).to_have_count(0)  # no y axis unless asked


def check_area_chart(page):
    chart = w(page, "AreaChart")
    expect(chart.locator("path.ck-chart-area-fill")).to_have_count(2)
    expect(chart.locator(".ck-chart-legend")).to_have_count(0)
    expect(chart.locator(".ck-chart-x")).to_have_count(0)
    # Screen readers get the numbers as a table.
    expect(chart.locator("table.ck-sr-only tr")).to_have_count(5)
    expect(chart.locator("table.ck-sr-only tr").nth(4)).to_have_text("apr2211")


CHECKS: dict[str, Callable[[Page], None]] = {
    "Basic": check_basic,
    "Card": check_card,
    "Title": check_title,
    "Caption": check_caption,
    "Text": check_text,
    "Markdown": check_markdown,
    "Badge": check_badge,
    "Divider": check_divider,
    "Row": check_row,
    "Col": check_col,
    "Box": check_box,
    "Spacer": check_spacer,
    "Icon": check_icon,
    "Image": check_image,
    "Button": check_button,
    "Transition": check_transition,
    "ListView": check_list_view,
    "ListViewItem": check_list_view_item,
    "Form": check_form,
    "Label": check_label,
    "Input": check_input,
    "Textarea": check_textarea,
    "Select": check_select,
    "Checkbox": check_checkbox,
    "RadioGroup": check_radio_group,
    "DatePicker": check_date_picker,
    "Table": check_table,
    "Table.Row": check_table_row,
    "Table.Cell": check_table_cell,
    "Chart:bar": check_bar_chart,
    "Chart:line": check_line_chart,
    "Chart:area": check_area_chart,
}


@pytest.mark.parametrize("component", list(CHECKS))
def test_widget(gallery, component):
    CHECKS[component](gallery.page)


def test_the_gallery_covers_every_component_type():
    import chatkit.widgets

    python_types = {
        cls.model_fields["type"].default
        for cls in vars(chatkit.widgets).values()
        if isinstance(cls, type) and hasattr(cls, "model_fields") and "type" in cls.model_fields
    }
    python_types = {t for t in python_types if isinstance(t, str) and t[:1].isupper()}
    types_ts = (ROOT / "node_modules/@openai/chatkit/types/widgets.d.ts").read_text()
    js_types = set(re.findall(r"type: '([A-Z][\w.]*)'", types_ts))
    series = {f"Chart:{s}" for s in ("bar", "line", "area")}
    covered = {name.split(":")[0] for name in CHECKS}
    assert python_types | js_types <= covered, (python_types | js_types) - covered
    assert series <= set(CHECKS)
    assert "Table" in js_types and "Transition" in python_types  # the sources were read

    sent: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if "type" in node:
                sent.add(node["type"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(GALLERY)
    assert python_types | js_types <= sent
