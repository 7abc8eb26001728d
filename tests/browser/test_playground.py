"""The playground: its pickers come from the chosen workflow, and its errors say what happened."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.support import assistant_messages, composer, open_playground, send

expect.set_options(timeout=15_000)


def test_pickers_offer_the_chosen_workflows_models_and_tools(recorded, ui_user):
    page = open_playground(recorded, ui_user, workflow="picker-agent")
    model = page.get_by_role("combobox", name="Model")
    expect(model.get_by_role("option")).to_have_text(["pick-small", "pick-large"])
    expect(model).to_have_value("pick-small")  # the workflow's default comes first
    tool = page.get_by_role("combobox", name="Tool")
    expect(tool.get_by_role("option")).to_have_text(["No tool", "current_time"])
    expect(composer(page)).to_have_attribute("placeholder", "Message the picker-agent workflow")
    model.select_option("pick-large")
    send(page, "who are you")
    expect(assistant_messages(page).last).to_have_text("I am pick-large")
    sent = [op for op in recorded.operations if op["type"] == "threads.create"][-1]
    assert sent["params"]["input"]["inference_options"] == {"model": "pick-large"}


def test_the_demo_offers_no_pickers_it_would_ignore(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    expect(page.get_by_role("combobox", name="Model")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Tool")).to_be_hidden()
    expect(page.get_by_role("button", name="Show a widget")).to_be_visible()


def test_an_unknown_workflow_is_named_not_called_the_playground_being_off(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    form = page.locator("#session-form")
    form.get_by_label("Workflow").fill("no-such-flow")
    form.get_by_role("button", name="Start new session").click()
    error = page.locator("#session-error")
    expect(error).to_contain_text("Workflow 'no-such-flow'")
    expect(error).to_contain_text("(workflow.id)")
    expect(error).not_to_contain_text("playground is off")
    # A version that does not exist is named too.
    form.get_by_label("Workflow").fill("picker-agent")
    form.get_by_label("Version").fill("7")
    form.get_by_role("button", name="Start new session").click()
    expect(error).to_contain_text("Workflow 'picker-agent'")
    expect(error).to_contain_text("7")
