"""The admin console's workflows: the list, a version's graph drawn as a diagram, a run's path on it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY, SCREENSHOTS
from tests.browser.support import assistant_messages, open_playground, send, wait_idle
from tests.support.harness import deploy_yaml

GRAPH = """
id: routing-ui
name: Routing desk
model: demo-default
allowed_models: [demo-fast]
provider: {type: scripted, script: [{steps: [{text: "{{ instructions }}"}]}]}
actions: {desk.reopen: answer}
nodes:
  - {id: start, type: start, next: route}
  - id: route
    type: if_else
    conditions: [{when: 'workflow.input_as_text.contains("refund")', next: refund, label: refund}]
    else: answer
  - {id: refund, type: end, output: '"Refunds are handled by phone."'}
  - {id: answer, type: agent, label: Answer, instructions: "Answered by the desk.", next: done}
  - {id: done, type: end}
"""


def sign_in(page, base_url: str) -> None:
    page.goto(base_url + "/admin")
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()


def test_a_graph_is_drawn_and_a_runs_path_shown_on_it(recorded, ui_user):
    recorded.server.run(deploy_yaml(recorded.server.platform, GRAPH))
    page = open_playground(recorded, ui_user, workflow="routing-ui")
    send(page, "hello desk")
    expect(assistant_messages(page).last).to_have_text("Answered by the desk.")
    wait_idle(page)

    sign_in(page, recorded.server.base_url)
    page.get_by_role("link", name="Workflows", exact=True).click()
    row = page.locator("table.data tbody tr", has_text="routing-ui")
    expect(row).to_contain_text("yaml")
    row.get_by_role("button", name="Open workflow routing-ui").click()

    diagram = page.get_by_role("img", name="Diagram of 5 nodes")
    expect(diagram).to_be_visible()
    nodes = diagram.locator(".graph-node")
    # The five nodes, and the action's entry point.
    expect(nodes).to_have_count(6)
    expect(diagram.locator(".graph-node[data-node=answer]")).to_contain_text("Answer")
    expect(diagram.locator(".graph-node[data-node=route]")).to_contain_text("if_else")
    labels = diagram.locator(".graph-edge-label")
    expect(labels).to_contain_text(["next", "refund", "else", "next"], ignore_case=False)
    expect(diagram.locator(".graph-node[data-kind=action]")).to_contain_text("action desk.reopen")
    # dagre laid it out top to bottom: the start above the branch, the branch above its ends.
    start_box = diagram.locator(".graph-node[data-node=start]").bounding_box()
    route_box = diagram.locator(".graph-node[data-node=route]").bounding_box()
    refund_box = diagram.locator(".graph-node[data-node=refund]").bounding_box()
    assert start_box and route_box and refund_box
    assert start_box["y"] < route_box["y"] < refund_box["y"]
    expect(diagram.locator("[data-visited=true]")).to_have_count(0)

    # From the thread's trace to the diagram, with the path the run took.
    page.get_by_role("link", name="Threads", exact=True).click()
    page.locator("table.data tbody tr", has_text=ui_user).first.get_by_role("button").first.click()
    page.get_by_role("button", name="Show the path on the diagram").first.click()
    expect(page.get_by_text("start → route → answer → done")).to_be_visible()
    visited = page.locator(".graph-node[data-visited=true]")
    expect(visited).to_have_count(4)
    expect(page.locator(".graph-node[data-node=refund]")).not_to_have_attribute("data-visited", "true")
    taken = page.locator(".graph-edge[data-taken=true]")
    expect(taken).to_have_count(3)
    expect(page.locator(".graph-edge[data-source=route][data-target=answer]")).to_have_attribute(
        "data-taken", "true"
    )
    page.screenshot(path=str(SCREENSHOTS / "admin-workflow.png"), full_page=True)
