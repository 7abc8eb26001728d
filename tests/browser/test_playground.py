"""The playground: its pickers come from the chosen workflow, and its errors say what happened."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from chatkitd.workflows.deploy import deploy_file
from tests.browser.conftest import RecordedPage
from tests.browser.support import assistant_messages, composer, open_playground, send, wait_idle
from tests.support.harness import deploy_yaml

expect.set_options(timeout=15_000)
EXPORT = Path(__file__).resolve().parents[2] / "examples" / "agent_builder_export.py"
GRAPH = """
id: picker-graph
name: Picker graph
model: graph-small
allowed_models: [graph-small, graph-large]
provider: {type: scripted, script: [{steps: [{text: "graph on {{ model }}"}]}]}
nodes:
  - {id: start, type: start, next: answer}
  - {id: answer, type: agent, label: Answer, instructions: "Answer.", next: done}
  - {id: done, type: end}
"""


def test_pickers_offer_the_chosen_workflows_models_and_tools(recorded, ui_user):
    page = open_playground(recorded, ui_user, workflow="picker-agent")
    model = page.get_by_role("combobox", name="Model")
    expect(model.get_by_role("option")).to_have_text(["pick-small", "pick-large"])
    expect(model).to_have_value("pick-small")  # the workflow's default comes first
    tool = page.get_by_role("combobox", name="Tool")
    expect(tool.get_by_role("option")).to_have_text(["No tool", "current_time"])
    model.select_option("pick-large")
    send(page, "who are you")
    expect(assistant_messages(page).last).to_have_text("I am pick-large")
    sent = [op for op in recorded.operations if op["type"] == "threads.create"][-1]
    assert sent["params"]["input"]["inference_options"] == {"model": "pick-large"}


def test_a_graphs_models_are_offered_and_used(recorded, ui_user):
    recorded.server.run(deploy_yaml(recorded.server.platform, GRAPH))
    page = open_playground(recorded, ui_user, workflow="picker-graph")
    model = page.get_by_role("combobox", name="Model")
    expect(model.get_by_role("option")).to_have_text(["graph-small", "graph-large"])
    # A graph's agent nodes run their own tools: there is no tool_choice to offer.
    expect(page.get_by_role("combobox", name="Tool")).to_be_hidden()
    model.select_option("graph-large")
    send(page, "which model")
    expect(assistant_messages(page).last).to_have_text("graph on graph-large")


def test_an_agent_builder_export_chats_without_pickers_and_says_what_failed(recorded: RecordedPage, ui_user):
    server = recorded.server
    server.run(deploy_file(server.platform.workflows, "default", EXPORT, workflow_id="wf_playground_export"))
    page = open_playground(recorded, ui_user, workflow="wf_playground_export")
    expect(composer(page)).to_be_visible()
    # An export's agents name their own models and tools: nothing to pick.
    expect(page.get_by_role("combobox", name="Model")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Tool")).to_be_hidden()
    send(page, "what is the refund policy")
    wait_idle(page)
    # This server has no OpenAI key: the chat says the model is unavailable, not nothing.
    expect(page.locator("chatkitd-chat .ck-banners")).to_contain_text("model is not available")
    expect(page.locator("#session-error")).to_be_empty()


def test_the_demo_offers_no_pickers_it_would_ignore(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    expect(page.get_by_role("combobox", name="Model")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Tool")).to_be_hidden()
    expect(page.get_by_role("button", name="Show a widget")).to_be_visible()


def test_an_unknown_workflow_is_named_not_called_the_playground_being_off(recorded, ui_user):
    # Opened on it, as a shared link would: the error shows where the chat would be, on a phone
    # too (where the form is below the chat), and no chat pretends to be ready.
    page = recorded.page
    page.set_viewport_size({"width": 390, "height": 760})
    page.goto(f"{recorded.server.base_url}/?workflow=no-such-flow&user={ui_user}")
    error = page.locator("#session-error")
    expect(error).to_have_text("Workflow 'no-such-flow': No workflow with id 'no-such-flow'. (workflow.id)")
    expect(error).to_be_in_viewport()
    expect(page.locator("chatkitd-chat")).to_be_hidden()
    page.set_viewport_size({"width": 1280, "height": 820})
    form = page.locator("#session-form")
    form.get_by_label("Workflow").fill("demo")
    form.get_by_role("button", name="Start new session").click()
    expect(composer(page)).to_be_visible()
    expect(error).to_be_empty()

    page = open_playground(recorded, ui_user)
    form = page.locator("#session-form")
    form.get_by_label("Workflow").fill("no-such-flow")
    form.get_by_role("button", name="Start new session").click()
    error = page.locator("#session-error")
    expect(error).to_contain_text("Workflow 'no-such-flow'")
    expect(error).to_contain_text("(workflow.id)")
    expect(error).not_to_contain_text("playground is off")
    expect(error).to_be_in_viewport()
    # The chat of the session already running stays usable.
    expect(composer(page)).to_be_visible()
    # A version that does not exist is named too.
    form.get_by_label("Workflow").fill("picker-agent")
    form.get_by_label("Version").fill("7")
    form.get_by_role("button", name="Start new session").click()
    expect(error).to_contain_text("Workflow 'picker-agent'")
    expect(error).to_contain_text("7")
