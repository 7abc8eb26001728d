"""Widget actions reach graph workflows: ``threads.custom_action`` and ``threads.sync_custom_action``.

A graph's ``actions`` map an action's type to the node its run starts at, with
the payload as that node's ``input``. Over the conversation endpoint with a
client secret, on the offline scripted model, as a browser's widget would send them.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.harness import deploy_yaml

GRAPH = """
id: {id}
provider:
  type: scripted
  script:
    - when: "^show me the cart"
      steps: [{{text: '{{"items": 0}}'}}]
    - steps: [{{text: "{{{{ instructions }}}}"}}]
actions:
  cart.add: add
  cart.tell: tell
  cart.check: confirm
  cart.wrong: broken
nodes:
  - id: start
    type: start
    state_variables: [{{name: items, type: integer, default: 0}}]
    next: cart
  - id: cart
    type: agent
    instructions: Show the cart.
    output:
      type: widget
      schema: {{type: object, properties: {{items: {{type: integer}}}}, required: [items]}}
      widget:
        type: Card
        children: [{{type: Text, value: "Items: {{{{ string(output.items) }}}}"}}]
    next: shown
  - {{id: shown, type: end}}
  - id: add
    type: set_state
    assign: {{items: "state.items + int(input.count)"}}
    next: redraw
  - id: redraw
    type: end
    output: '{{"type": "Card", "children": [{{"type": "Text", "value": "Items: " + string(state.items)}}]}}'
  - id: tell
    type: agent
    history: false
    instructions: "The cart holds {{{{ string(state.items) }}}}; the user picked {{{{ input.sku }}}}."
    next: told
  - {{id: told, type: end}}
  - id: confirm
    type: user_approval
    message: Empty the cart?
    on_approve: emptied
  - {{id: emptied, type: set_state, assign: {{items: "0"}}, next: cleared}}
  - {{id: cleared, type: end, output: '"The cart is empty now."'}}
  - {{id: broken, type: end, output: '{{"type": "Card", "children": "none"}}'}}
"""


@pytest.fixture
def chat(server, chat_for, user):
    workflow_id = f"graph-actions-{uuid.uuid4().hex[:8]}"
    server.run(deploy_yaml(server.platform, GRAPH.format(id=workflow_id)))
    return chat_for(user, workflow={"id": workflow_id})


def widget_text(item: dict[str, Any]) -> str:
    return item["widget"]["children"][0]["value"]


def test_a_sync_action_runs_its_nodes_and_replaces_the_widget(chat, client):
    first = chat.create("show me the cart")
    [card] = first.done_items("widget")
    assert widget_text(card) == "Items: 0"

    answer = chat.call(
        "threads.sync_custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.add", "payload": {"count": 2}},
    )
    updated = answer["updated_item"]
    assert updated["id"] == card["id"] and widget_text(updated) == "Items: 2"
    # Saved: a reload shows the new widget, and nothing was added to the thread.
    items = chat.call("items.list", thread_id=first.thread_id, order="asc")["data"]
    assert [i["type"] for i in items] == ["user_message", "widget"]
    assert widget_text(items[1]) == "Items: 2"
    # The state the action set is the thread's: the next action sees it.
    again = chat.call(
        "threads.sync_custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.add", "payload": {"count": 3}},
    )
    assert widget_text(again["updated_item"]) == "Items: 5"
    # Its nodes are spans of a trace, like a streamed run's.
    [newest, *_] = client.get(f"/chatkit/traces?thread_id={first.thread_id}", cast_to=object)["data"]
    spans = client.get(f"/chatkit/traces/{newest['id']}", cast_to=object)["spans"]
    names = [s["name"] for s in spans]
    assert "set_state add" in names and "end redraw" in names


def test_a_streamed_action_leads_to_a_node_with_its_payload(chat):
    first = chat.create("show me the cart")
    [card] = first.done_items("widget")
    chat.call(
        "threads.sync_custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.add", "payload": {"count": 4}},
    )
    told = chat.stream(
        "threads.custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.tell", "payload": {"sku": "SKU-9"}},
    )
    assert not told.of("error")
    assert told.text() == "The cart holds 4; the user picked SKU-9."


def test_a_sync_action_whose_path_talks_or_asks_is_refused_before_it_runs(chat):
    first = chat.create("show me the cart")
    [card] = first.done_items("widget")
    for action, node in (("cart.tell", "tell"), ("cart.check", "confirm")):
        refused = chat.post(
            "threads.sync_custom_action",
            thread_id=first.thread_id,
            item_id=card["id"],
            action={"type": action, "payload": {"sku": "A"}},
        )
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["param"] == "params.action.type" and f"node '{node}'" in error["message"]
    # Nothing ran: no approval card, no message.
    items = chat.call("items.list", thread_id=first.thread_id, order="asc")["data"]
    assert [i["type"] for i in items] == ["user_message", "widget"]


def test_unknown_actions_and_outputs_that_are_not_widgets(chat):
    first = chat.create("show me the cart")
    [card] = first.done_items("widget")
    unknown = chat.post(
        "threads.sync_custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.nope", "payload": {}},
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "params.action.type"
    assert "cart.add" in unknown.json()["error"]["message"]
    broken = chat.post(
        "threads.sync_custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.wrong", "payload": {}},
    )
    assert broken.status_code == 422, broken.text
    assert broken.json()["error"]["code"] == "invalid_widget"


def test_a_run_that_leaves_the_state_as_it_was_writes_nothing(chat, server):
    from sqlalchemy import select

    from chatkitd.store import tables

    first = chat.create("show me the cart")
    [card] = first.done_items("widget")

    def add(count: int) -> dict[str, Any]:
        return chat.call(
            "threads.sync_custom_action",
            thread_id=first.thread_id,
            item_id=card["id"],
            action={"type": "cart.add", "payload": {"count": count}},
        )["updated_item"]

    async def stored() -> tuple[str, float]:
        g = tables.graph_threads
        async with server.platform.db.read() as conn:
            row = (
                await conn.execute(select(g.c.state, g.c.updated_at).where(g.c.thread_id == first.thread_id))
            ).one()
            return row[0], row[1]

    assert widget_text(add(2)) == "Items: 2"
    written = server.run(stored())
    assert widget_text(add(0)) == "Items: 2"  # set_state ran, and assigned what was there
    assert server.run(stored()) == written
    assert widget_text(add(1)) == "Items: 3"
    assert server.run(stored()) != written


def test_a_streamed_action_may_wait_for_approval_and_resume(chat):
    first = chat.create("show me the cart")
    [card] = first.done_items("widget")
    chat.call(
        "threads.sync_custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.add", "payload": {"count": 7}},
    )
    asked = chat.stream(
        "threads.custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.check", "payload": {"sku": "ALL"}},
    )
    [question] = asked.done_items("widget")
    assert question["widget"]["children"][0]["value"] == "Empty the cart?"
    approved = chat.stream(
        "threads.custom_action",
        thread_id=first.thread_id,
        item_id=question["id"],
        action=question["widget"]["confirm"]["action"],
    )
    assert not approved.of("error")
    assert approved.text() == "The cart is empty now."
    # The resumed run's set_state is the thread's.
    again = chat.call(
        "threads.sync_custom_action",
        thread_id=first.thread_id,
        item_id=card["id"],
        action={"type": "cart.add", "payload": {"count": 1}},
    )
    assert widget_text(again["updated_item"]) == "Items: 1"
