"""A workflow for the browser tests: every message is answered with GALLERY, one sample of
every widget component in ``chatkit.widgets`` and in ChatKit.js's types (``@openai/chatkit``),
each with an ``id`` naming it, so a test can find and check each one.

Deployed into the browser tests' server through ``CHATKITD_WORKFLOWS_DIR``; the tests
import GALLERY from here to know what was sent.
"""

from datetime import UTC, datetime

from chatkit.types import ThreadItemDoneEvent, WidgetItem
from chatkit.widgets import DynamicWidgetRoot

from chatkitd.workflows.base import Workflow

ID = "widget-gallery"

SALES = [
    {"month": "jan", "online": 12, "store": 8, "returns": -2},
    {"month": "feb", "online": 18, "store": 9, "returns": -1},
    {"month": "mar", "online": 9, "store": 14, "returns": -3},
    {"month": "apr", "online": 22, "store": 11, "returns": -2},
]

GALLERY = {
    "type": "Basic",
    "id": "Basic",
    "gap": 3,
    "children": [
        {
            "type": "Card",
            "id": "Card",
            "size": "lg",
            "status": {"text": "From the gallery", "icon": "sparkle"},
            "confirm": {"label": "Confirm", "action": {"type": "confirm"}},
            "cancel": {"label": "Cancel", "action": {"type": "cancel"}},
            "children": [
                {"type": "Title", "id": "Title", "value": "Every widget", "size": "lg"},
                {"type": "Caption", "id": "Caption", "value": "a caption", "size": "sm"},
                {
                    "type": "Text",
                    "id": "Text",
                    "value": "Struck through",
                    "lineThrough": True,
                    "color": "danger",
                },
                {"type": "Markdown", "id": "Markdown", "value": "**bold** and `code`"},
                {"type": "Badge", "id": "Badge", "label": "new", "color": "success", "pill": True},
                {"type": "Divider", "id": "Divider", "spacing": 2},
                {
                    "type": "Row",
                    "id": "Row",
                    "gap": 2,
                    "children": [
                        {
                            "type": "Icon",
                            "id": "Icon",
                            "name": "star-filled",
                            "size": "lg",
                            "color": "warning",
                        },
                        {"type": "Spacer", "id": "Spacer"},
                        {
                            "type": "Col",
                            "id": "Col",
                            "children": [{"type": "Box", "id": "Box", "padding": 2, "children": []}],
                        },
                    ],
                },
                {
                    "type": "Image",
                    "id": "Image",
                    "src": "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7",
                    "alt": "dot",
                },
                {
                    "type": "Button",
                    "id": "Button",
                    "label": "Search",
                    "iconStart": "search",
                    "onClickAction": {"type": "search"},
                },
                {
                    "type": "Transition",
                    "id": "Transition",
                    "children": {"type": "Text", "value": "slides in"},
                },
            ],
        },
        {
            "type": "ListView",
            "id": "ListView",
            "limit": 2,
            "children": [
                {
                    "type": "ListViewItem",
                    "id": f"ListViewItem{i}",
                    "onClickAction": {"type": "pick", "payload": {"n": i}},
                    "children": [{"type": "Text", "value": f"item {i}"}],
                }
                for i in range(1, 4)
            ],
        },
        {
            "type": "Form",
            "id": "Form",
            "onSubmitAction": {"type": "save"},
            "children": [
                {"type": "Label", "id": "Label", "value": "Your name", "fieldName": "name"},
                {"type": "Input", "id": "Input", "name": "name", "defaultValue": "Ada"},
                {"type": "Textarea", "id": "Textarea", "name": "note", "placeholder": "Note"},
                {
                    "type": "Select",
                    "id": "Select",
                    "name": "size",
                    "options": [{"value": "s", "label": "Small"}, {"value": "l", "label": "Large"}],
                    "defaultValue": "l",
                },
                {"type": "Checkbox", "id": "Checkbox", "name": "agree", "label": "I agree"},
                {
                    "type": "RadioGroup",
                    "id": "RadioGroup",
                    "name": "colour",
                    "ariaLabel": "Colour",
                    "options": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}],
                    "defaultValue": "blue",
                },
                {
                    "type": "DatePicker",
                    "id": "DatePicker",
                    "name": "day",
                    "defaultValue": "2026-01-02T00:00:00",
                },
                {"type": "Button", "label": "Save", "submit": True},
            ],
        },
        {
            "type": "Table",
            "id": "Table",
            "children": [
                {
                    "type": "Table.Row",
                    "id": "Table.Row",
                    "header": True,
                    "children": [
                        {"type": "Table.Cell", "children": [{"type": "Text", "value": "City"}]},
                        {
                            "type": "Table.Cell",
                            "align": "end",
                            "children": [{"type": "Text", "value": "People"}],
                        },
                    ],
                },
                {
                    "type": "Table.Row",
                    "children": [
                        {
                            "type": "Table.Cell",
                            "id": "Table.Cell",
                            "children": [{"type": "Text", "value": "Lyon"}],
                        },
                        {
                            "type": "Table.Cell",
                            "align": "end",
                            "children": [{"type": "Text", "value": "522 000"}],
                        },
                    ],
                },
                {
                    "type": "Table.Row",
                    "children": [
                        {
                            "type": "Table.Cell",
                            "colSpan": 2,
                            "children": [{"type": "Caption", "value": "2026 estimate"}],
                        }
                    ],
                },
            ],
        },
        {
            "type": "Chart",
            "id": "BarChart",
            "data": SALES,
            "xAxis": {"dataKey": "month", "labels": {"jan": "Jan", "feb": "Feb", "mar": "Mar", "apr": "Apr"}},
            "showYAxis": True,
            "series": [
                {"type": "bar", "dataKey": "online", "label": "Online", "stack": "sales", "color": "blue"},
                {"type": "bar", "dataKey": "store", "label": "Store", "stack": "sales", "color": "orange"},
                {"type": "bar", "dataKey": "returns", "label": "Returns", "color": "red-700"},
            ],
        },
        {
            "type": "Chart",
            "id": "LineChart",
            "data": SALES,
            "xAxis": "month",
            "series": [
                {"type": "line", "dataKey": "online", "label": "Online", "curveType": "monotone"},
                {
                    "type": "line",
                    "dataKey": "store",
                    "label": "Store",
                    "color": {"light": "#15803d", "dark": "#4ade80"},
                },
            ],
        },
        {
            "type": "Chart",
            "id": "AreaChart",
            "data": SALES,
            "xAxis": {"dataKey": "month", "hide": True},
            "showLegend": False,
            "series": [
                {"type": "area", "dataKey": "online", "label": "Online", "stack": "s"},
                {"type": "area", "dataKey": "store", "label": "Store", "stack": "s", "curveType": "step"},
            ],
        },
    ],
}


class WidgetGallery(Workflow):
    async def respond(self, thread, item, context, store):
        yield ThreadItemDoneEvent(
            item=WidgetItem(
                id=store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=datetime.now(UTC),
                widget=DynamicWidgetRoot.model_validate(GALLERY),
            )
        )

    async def action(self, thread, action, sender, context, store):
        from chatkitd.workflows.events import stream_assistant_message

        text = f"action {action.type} {action.payload}"
        async for event in stream_assistant_message(
            store.generate_item_id("message", thread, context), thread.id, [text]
        ):
            yield event


WORKFLOW = WidgetGallery
