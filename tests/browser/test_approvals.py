"""An approval answered in ``<chatkitd-chat>``: the card, its buttons, a reload, the resumed run."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.support import assistant_messages, open_playground, send, wait_idle
from tests.support.harness import deploy_yaml

# The playground's composer offers the demo's models; this copy of the approvals workflow allows them.
APPROVALS = (
    (Path(__file__).parents[1] / "workflows_data" / "approvals.yaml")
    .read_text()
    .replace("id: approvals\n", "id: approvals-ui\nmodel: demo-default\nallowed_models: [demo-fast]\n")
)


def test_an_approval_is_answered_in_the_chat_even_after_a_reload(recorded, ui_user):
    recorded.server.run(deploy_yaml(recorded.server.platform, APPROVALS))
    page = open_playground(recorded, ui_user, workflow="approvals-ui")
    send(page, "email Ada the invoice")
    card = page.locator("chatkitd-chat .ck-w-card")
    expect(card).to_contain_text("Run send_email?")
    expect(card).to_contain_text('"to": "ada@example.com"')
    wait_idle(page)
    expect(assistant_messages(page)).to_have_count(0)

    # A reload shows the request still waiting; it is answered from the reloaded page.
    page.reload()
    page.locator("chatkitd-chat .ck-thread-open").first.click()
    card = page.locator("chatkitd-chat .ck-w-card")
    expect(card).to_contain_text("Run send_email?")
    card.get_by_role("button", name="Approve").click()

    expect(card).to_contain_text(f"Approved by {ui_user}")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    expect(assistant_messages(page)).to_have_text("Result: Sent 'Invoice' to ada@example.com.")
    [answer] = [op for op in recorded.operations if op["type"] == "threads.custom_action"]
    assert answer["params"]["action"]["type"] == "chatkitd.approval"
    assert answer["params"]["action"]["payload"]["decision"] == "approve"


def test_a_rejection_is_told_to_the_model(recorded, ui_user):
    recorded.server.run(deploy_yaml(recorded.server.platform, APPROVALS))
    page = open_playground(recorded, ui_user, workflow="approvals-ui")
    send(page, "email Ada the invoice")
    card = page.locator("chatkitd-chat .ck-w-card")
    wait_idle(page)
    card.get_by_role("button", name="Reject").click()
    expect(card).to_contain_text(f"Rejected by {ui_user}")
    expect(assistant_messages(page)).to_contain_text("The user rejected this call to send_email")


# A graph's user_approval node asks through the same card as a tool does.
GRAPH = """
id: graph-approval-ui
model: demo-default
allowed_models: [demo-fast]
provider: {type: scripted, script: [{steps: [{text: "{{ instructions }}"}]}]}
nodes:
  - {id: start, type: start, next: ask}
  - id: ask
    type: user_approval
    message: "Refund {{ workflow.input_as_text }}?"
    on_approve: done
    on_reject: declined
  - {id: done, type: agent, instructions: "Refunded, as approved."}
  - {id: declined, type: end, output: '"No refund."'}
"""


def test_a_graph_approval_is_answered_in_the_chat_even_after_a_reload(recorded, ui_user):
    recorded.server.run(deploy_yaml(recorded.server.platform, GRAPH))
    page = open_playground(recorded, ui_user, workflow="graph-approval-ui")
    send(page, "order 42")
    card = page.locator("chatkitd-chat .ck-w-card")
    expect(card).to_contain_text("Refund order 42?")
    wait_idle(page)
    expect(assistant_messages(page)).to_have_count(0)

    page.reload()
    page.locator("chatkitd-chat .ck-thread-open").first.click()
    card = page.locator("chatkitd-chat .ck-w-card")
    expect(card).to_contain_text("Refund order 42?")
    card.get_by_role("button", name="Approve").click()

    expect(card).to_contain_text(f"Approved by {ui_user}")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    expect(assistant_messages(page)).to_have_text("Refunded, as approved.")
    [answer] = [op for op in recorded.operations if op["type"] == "threads.custom_action"]
    assert answer["params"]["action"]["type"] == "chatkitd.approval"
