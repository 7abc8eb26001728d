"""Widget actions reach graph workflows: ``threads.custom_action`` and ``threads.sync_custom_action``.

A graph's ``actions`` map an action's type to the node its run starts at, with
the payload as that node's ``input``. Over the conversation endpoint with a
client secret, on the offline scripted model, as a browser's widget would send them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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


@dataclass
class Cart:
    """A thread that asked for the cart, and the cart widget its actions are sent from."""

    chat: Any
    thread_id: str
    card: dict[str, Any]

    def request(self, action_type: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "item_id": self.card["id"],
            "action": {"type": action_type, "payload": payload or {}},
        }

    def sync(self, action_type: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """``threads.sync_custom_action``'s answer."""
        return self.chat.call("threads.sync_custom_action", **self.request(action_type, payload))

    def try_sync(self, action_type: str, payload: dict[str, Any] | None = None) -> Any:
        """The HTTP response, for a refusal."""
        return self.chat.post("threads.sync_custom_action", **self.request(action_type, payload))

    def stream(self, action_type: str, payload: dict[str, Any] | None = None) -> Any:
        return self.chat.stream("threads.custom_action", **self.request(action_type, payload))

    def items(self) -> list[dict[str, Any]]:
        return self.chat.call("items.list", thread_id=self.thread_id, order="asc")["data"]


@pytest.fixture
def cart(chat) -> Cart:
    first = chat.create("show me the cart")
    [card] = first.done_items("widget")
    return Cart(chat, first.thread_id, card)


def widget_text(item: dict[str, Any]) -> str:
    return item["widget"]["children"][0]["value"]


def test_a_sync_action_runs_its_nodes_and_replaces_the_widget(cart, client):
    assert widget_text(cart.card) == "Items: 0"

    updated = cart.sync("cart.add", {"count": 2})["updated_item"]
    assert updated["id"] == cart.card["id"] and widget_text(updated) == "Items: 2"
    # Saved: a reload shows the new widget, and nothing was added to the thread.
    items = cart.items()
    assert [i["type"] for i in items] == ["user_message", "widget"]
    assert widget_text(items[1]) == "Items: 2"
    # The state the action set is the thread's: the next action sees it.
    again = cart.sync("cart.add", {"count": 3})
    assert widget_text(again["updated_item"]) == "Items: 5"
    # Its nodes are spans of a trace, like a streamed run's.
    [newest, *_] = client.get(f"/chatkit/traces?thread_id={cart.thread_id}", cast_to=object)["data"]
    spans = client.get(f"/chatkit/traces/{newest['id']}", cast_to=object)["spans"]
    names = [s["name"] for s in spans]
    assert "set_state add" in names and "end redraw" in names


def test_a_streamed_action_leads_to_a_node_with_its_payload(cart):
    cart.sync("cart.add", {"count": 4})
    told = cart.stream("cart.tell", {"sku": "SKU-9"})
    assert not told.of("error")
    assert told.text() == "The cart holds 4; the user picked SKU-9."


def test_a_sync_action_whose_path_talks_or_asks_is_refused_before_it_runs(cart):
    for action, node in (("cart.tell", "tell"), ("cart.check", "confirm")):
        refused = cart.try_sync(action, {"sku": "A"})
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert error["param"] == "params.action.type" and f"node '{node}'" in error["message"]
    # Nothing ran: no approval card, no message.
    assert [i["type"] for i in cart.items()] == ["user_message", "widget"]


def test_unknown_actions_and_outputs_that_are_not_widgets(cart):
    unknown = cart.try_sync("cart.nope")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["param"] == "params.action.type"
    assert "cart.add" in unknown.json()["error"]["message"]
    broken = cart.try_sync("cart.wrong")
    assert broken.status_code == 422, broken.text
    assert broken.json()["error"]["code"] == "invalid_widget"


def test_a_run_that_leaves_the_state_as_it_was_writes_nothing(cart, server):
    from sqlalchemy import select

    from chatkitd.store import tables

    def add(count: int) -> dict[str, Any]:
        return cart.sync("cart.add", {"count": count})["updated_item"]

    async def stored() -> tuple[str, float]:
        g = tables.graph_threads
        async with server.platform.db.read() as conn:
            row = (
                await conn.execute(select(g.c.state, g.c.updated_at).where(g.c.thread_id == cart.thread_id))
            ).one()
            return row[0], row[1]

    assert widget_text(add(2)) == "Items: 2"
    written = server.run(stored())
    assert widget_text(add(0)) == "Items: 2"  # set_state ran, and assigned what was there
    assert server.run(stored()) == written
    assert widget_text(add(1)) == "Items: 3"
    assert server.run(stored()) != written


def test_a_streamed_action_may_wait_for_approval_and_resume(cart):
    cart.sync("cart.add", {"count": 7})
    asked = cart.stream("cart.check", {"sku": "ALL"})
    [question] = asked.done_items("widget")
    assert question["widget"]["children"][0]["value"] == "Empty the cart?"
    approved = cart.chat.stream(
        "threads.custom_action",
        thread_id=cart.thread_id,
        item_id=question["id"],
        action=question["widget"]["confirm"]["action"],
    )
    assert not approved.of("error")
    assert approved.text() == "The cart is empty now."
    # The resumed run's set_state is the thread's.
    again = cart.sync("cart.add", {"count": 1})
    assert widget_text(again["updated_item"]) == "Items: 1"
